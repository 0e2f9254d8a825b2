#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1 for the AMS's tests (nox -s ams).
#   postgres.sh start DIR   -> initdb in DIR, start on a free port, create role/db "ams";
#                              prints the port on stdout and writes it to DIR/port
#   postgres.sh stop DIR    -> stop it (fast), if running
# PostgreSQL refuses to run as root, so the server runs as the "postgres" user (Debian's
# postgresql package creates it). Needs Debian's postgresql (initdb, pg_ctl) and psql.
set -Eeuo pipefail
action="${1:?start|stop}"
dir="$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)"
pgbin="${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$pgbin/initdb" ] || { echo "postgres.sh: no initdb; apt-get install postgresql" >&2; exit 2; }
runas=(runuser -u postgres --)
[ "$(id -u)" = 0 ] || runas=()
id postgres >/dev/null 2>&1 || [ "$(id -u)" != 0 ] || useradd --system --no-create-home postgres

case "$action" in
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    (cd / && "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null) || true
  fi
  ;;
start)
  rm -rf "$dir/data" "$dir/sock"
  mkdir -p "$dir/data" "$dir/sock"
  chmod 755 "$dir"
  [ "$(id -u)" != 0 ] || chown -R postgres: "$dir/data" "$dir/sock"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  (cd / && "${runas[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
    --locale=C.UTF-8 --no-sync) >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 2; }
  (cd / && "${runas[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/data/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off") \
    >/dev/null || { cat "$dir/data/server.log" >&2; exit 2; }
  psql -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE ams LOGIN SUPERUSER PASSWORD 'ams'" -c "CREATE DATABASE ams OWNER ams" >&2
  echo "$port" >"$dir/port"
  echo "$port"
  ;;
*) echo "postgres.sh: start|stop DIR" >&2; exit 2 ;;
esac
