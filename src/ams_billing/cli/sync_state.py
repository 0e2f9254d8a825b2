"""The small JSON file that makes ``ams-billing sync`` resumable.

It records the **high-water mark** (the largest ``updated_at`` synced by a run over changed
invoices: ``--since-last`` starts there), the run over changed invoices in progress (where it
started and how far it got), and, for a run over ids, which ids are done. It is rewritten
atomically (a temporary file in the same directory, then ``os.replace``) after every batch,
so an interruption at any moment leaves the last complete batch recorded::

    {
      "version": 1,
      "high_water_mark": "2026-07-14T03:12:45.120000+00:00",
      "since_run": {"since": "2026-07-01T00:00:00+00:00", "resume_from": "2026-07-09T..."},
      "id_run": {"fingerprint": "<sha256 of the ids>", "total": 120, "done": ["...", "..."]}
    }

A finished run clears its ``since_run`` or ``id_run``: the same command then syncs again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ams_billing.core.deprecation import moved
from ams_billing.core.errors import ConfigurationError, FieldError

__all__ = ["DEFAULT_STATE_FILE", "IdRun", "SinceRun", "SyncState", "ids_digest"]

DEFAULT_STATE_FILE = Path(".ams-billing-sync.json")
"""Where ``sync`` keeps its state unless ``--state`` says otherwise."""

_VERSION = 1


def ids_digest(invoice_ids: Sequence[str]) -> str:
    """Identifies one list of ids (order and duplicates do not matter).

    Kept in the state file as ``id_run.fingerprint``: a run over the same ids resumes.
    """
    joined = "\n".join(sorted(set(invoice_ids)))
    return hashlib.sha256(joined.encode()).hexdigest()


@attrs.define
class SinceRun:
    """A run over invoices changed since ``since`` that has got as far as ``resume_from``."""

    since: datetime
    resume_from: datetime


@attrs.define
class IdRun:
    """A run over a list of ids: how many, and which are done."""

    fingerprint: str
    total: int
    done: list[str] = attrs.field(factory=list)


@attrs.define
class SyncState:
    """The state file's contents; :meth:`save` writes them atomically."""

    path: Path
    high_water_mark: datetime | None = None
    since_run: SinceRun | None = None
    id_run: IdRun | None = None

    @classmethod
    def load(cls, path: Path) -> SyncState:
        """Read ``path``; a missing file is an empty state, a damaged one a ConfigurationError."""
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls._from_json(path, data)
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ConfigurationError(
                "the sync state cannot be read:",
                [
                    FieldError(
                        str(path),
                        f"is not a sync state file ({type(error).__name__}: {error})",
                        "delete it to start afresh (the next run needs --since), or pass "
                        "another --state",
                    )
                ],
            ) from None

    @classmethod
    def _from_json(cls, path: Path, data: Any) -> SyncState:
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError(f"expected a JSON object with version {_VERSION}")
        mark = data.get("high_water_mark")
        since_run = data.get("since_run")
        id_run = data.get("id_run")
        return cls(
            path,
            high_water_mark=_moment(mark) if mark else None,
            since_run=SinceRun(_moment(since_run["since"]), _moment(since_run["resume_from"]))
            if since_run
            else None,
            id_run=IdRun(str(id_run["fingerprint"]), int(id_run["total"]), list(id_run["done"]))
            if id_run
            else None,
        )

    def as_json(self) -> dict[str, Any]:
        """The file's JSON document."""
        return {
            "version": _VERSION,
            "high_water_mark": self.high_water_mark.isoformat() if self.high_water_mark else None,
            "since_run": {
                "since": self.since_run.since.isoformat(),
                "resume_from": self.since_run.resume_from.isoformat(),
            }
            if self.since_run
            else None,
            "id_run": attrs.asdict(self.id_run) if self.id_run else None,
        }

    def raise_mark(self, moment: datetime) -> None:
        """Move the high-water mark up to ``moment`` (never down)."""
        if self.high_water_mark is None or moment > self.high_water_mark:
            self.high_water_mark = moment

    def save(self) -> None:
        """Write the file atomically: a reader sees the old contents or the new, never half."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with temporary.open("w", encoding="utf-8") as stream:
                json.dump(self.as_json(), stream, indent=2)
                stream.write("\n")
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no timezone")
    return moment


# Old names, kept with a DeprecationWarning (issue 18). Type checkers see plain aliases, so
# code typed against the old names still checks; at run time each use warns.
if TYPE_CHECKING:
    fingerprint = ids_digest
else:
    __getattr__ = moved(__name__, {"fingerprint": "ams_billing.cli.sync_state:ids_digest"})
