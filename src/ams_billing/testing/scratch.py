"""Durable stores for one contract harness: a fresh SQLite file in a temporary directory.

A harness that offers a restart needs stores that survive it, as a deployment's do. Each
:class:`ScratchStores` is a new database on the SQL stores' schema; migrating an empty file
for every harness would cost more than the test itself, so the schema is built once per
process into a template and each harness gets a copy of the file.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from ams_billing.stores import SqlStores, create_store_engine, open_stores

__all__ = ["ScratchStores"]

_FILE = "billing.sqlite3"


class ScratchStores:
    """:class:`~ams_billing.stores.SqlStores` on an SQLite file of their own; ``close`` deletes it.

    The file outlives every object built over it until :meth:`close`: a provider instance
    built after a restart opens the same ``stores``, as a restarted process opens the same
    database.
    """

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="ams-billing-harness-"))
        path = self.directory / _FILE
        shutil.copyfile(_template(), path)
        self.stores = SqlStores(create_store_engine(f"sqlite:///{path}"))

    def __repr__(self) -> str:
        return f"<ScratchStores {self.directory}>"

    def close(self) -> None:
        """Close the stores' connections and delete the database."""
        self.stores.close()
        shutil.rmtree(self.directory, ignore_errors=True)


@functools.cache
def _template() -> Path:
    """An SQLite file with the stores' schema at head, made once per process."""
    directory = Path(tempfile.mkdtemp(prefix="ams-billing-template-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    path = directory / _FILE
    open_stores(f"sqlite:///{path}").close()
    # Out of WAL mode, everything is in the one file, which can then be copied as it is.
    with closing(sqlite3.connect(path)) as database:
        database.execute("PRAGMA journal_mode = DELETE")
    return path
