"""The durable ledger's cost per keyed operation: SQLite and PostgreSQL against memory.

Part of ``bench_stripe.py`` (the Stripe provider keeps every ``Idempotency-Key`` it sends in
this ledger, past Stripe's 24-hour key window). Each operation is the whole routine of
:meth:`~ams_billing.core.idempotency.IdempotentCalls.run` around a call that costs nothing:
the key's lock (in the process, and the store's across processes), the look-up, the pending
record, the call, the outcome. A *replay* is the same key asked again (the look-up finds the
outcome). What is left is what the ledger adds to each write the provider makes to Stripe.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ams_billing.core.idempotency import (
    IdempotentCalls,
    InMemoryIdempotencyStore,
    Outcome,
    OutcomeCodec,
)
from ams_billing.stores import open_stores

__all__ = ["ledger_costs"]

POSTGRES_SCRIPT = Path(__file__).resolve().parent.parent / "tests" / "in_ams" / "postgres.sh"

_CODEC: OutcomeCodec[str] = OutcomeCodec(keep=Outcome, replay=lambda record: record.result or "")


@contextmanager
def _postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL (``tests/in_ams/postgres.sh``); ``None`` when not installed."""
    folder = Path(tempfile.mkdtemp(prefix="ams-bench-pg-"))
    try:
        started = subprocess.run(  # noqa: S603 - the repository's own script
            ["bash", str(POSTGRES_SCRIPT), "start", str(folder)],  # noqa: S607
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
        if started.returncode != 0:
            yield None
            return
        port = (folder / "port").read_text().strip()
        yield f"postgresql+psycopg://ams:ams@127.0.0.1:{port}/ams"
    finally:
        subprocess.run(  # noqa: S603
            ["bash", str(POSTGRES_SCRIPT), "stop", str(folder)],  # noqa: S607
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


def _time_ops(calls: IdempotentCalls, operations: int, prefix: str) -> dict[str, float]:
    """Seconds per new key and per replay (wall and process CPU), over ``operations`` each."""
    request = {"customer": "cus_bench", "amount": 1010, "currency": "nzd"}
    out: dict[str, float] = {}
    for phase in ("new_key", "replay"):
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(operations):
            calls.run(f"{prefix}:{i}", "invoice", request, call=lambda: "in_bench", codec=_CODEC)
        out[f"{phase}_wall_seconds"] = (time.perf_counter() - wall) / operations
        out[f"{phase}_cpu_seconds"] = (time.process_time() - cpu) / operations
    return out


def ledger_costs(operations: int, stores: list[str]) -> dict[str, Any]:
    """The cost per operation of each ledger in ``stores``: ``memory``, ``sqlite``, ``postgres``."""
    results: dict[str, Any] = {}
    folder = Path(tempfile.mkdtemp(prefix="ams-bench-ledger-"))
    try:
        for store in stores:
            if store == "memory":
                results[store] = _time_ops(
                    IdempotentCalls(InMemoryIdempotencyStore()), operations, store
                )
            elif store == "sqlite":
                with open_stores(f"sqlite:///{folder / 'ledger.sqlite3'}") as sql:
                    results[store] = _time_ops(IdempotentCalls(sql.idempotency), operations, store)
            elif store == "postgres":
                with _postgres() as url:
                    if url is None:
                        results[store] = {"skipped": "PostgreSQL is not installed"}
                        continue
                    with open_stores(url) as sql:
                        results[store] = _time_ops(
                            IdempotentCalls(sql.idempotency), operations, store
                        )
                    results[store]["server"] = "postgres.sh: fsync=off, synchronous_commit=off"
        memory = results.get("memory")
        for store, figures in results.items():
            if memory and store != "memory" and "new_key_wall_seconds" in figures:
                figures["new_key_over_memory_seconds"] = (
                    figures["new_key_wall_seconds"] - memory["new_key_wall_seconds"]
                )
        results["sqlite_journal"] = "WAL, synchronous=NORMAL (the stores' default)"
        results["load_average_after"] = list(os.getloadavg())
        return {"operations": operations, "stores": results}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
