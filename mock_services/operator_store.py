"""The Operator fake's storage: one SQLite file, indexed so a 1,000,000-transaction listing pages fast.

Writes go through `write()` under one lock (a wallet operation reads a balance and writes it back);
reads use a connection per thread.
"""

import atexit
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime

SCHEMA = """
CREATE TABLE IF NOT EXISTS players (
    player_id TEXT PRIMARY KEY, currency TEXT NOT NULL, balance_minor INTEGER NOT NULL, missing INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS transactions (
    transaction_id TEXT PRIMARY KEY, operator_tx_id TEXT NOT NULL, player_id TEXT NOT NULL, type TEXT NOT NULL,
    amount_minor INTEGER NOT NULL, currency TEXT NOT NULL, status TEXT NOT NULL, created_at TEXT NOT NULL,
    original_transaction_id TEXT
);
CREATE TABLE IF NOT EXISTS answers (transaction_id TEXT PRIMARY KEY, status INTEGER NOT NULL, body TEXT NOT NULL);
"""


def utc_timestamp(moment: datetime | None = None) -> str:
    """Fixed-width UTC ISO 8601, so text order is time order."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _remove_database_files(path: str) -> None:
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.remove(name)


class OperatorStore:
    def __init__(self, path: str | None = None) -> None:
        if path is None:
            handle, path = tempfile.mkstemp(prefix="operator-fake-", suffix=".sqlite3")
            os.close(handle)
            atexit.register(_remove_database_files, path)
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        # A connection of its own, closed at once: the server forks after this, and a SQLite
        # connection must not cross a fork.
        with closing(sqlite3.connect(self.path)) as db:
            db.executescript(SCHEMA)  # executescript manages its own transaction

    def connection(self) -> sqlite3.Connection:
        if not hasattr(self._local, "db"):
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=OFF")  # a fake: speed over durability
            self._local.db = db
        return self._local.db

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        db = self.connection()
        with self._write_lock:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def reset(self) -> None:
        with self.write() as db:
            for table in ("players", "transactions", "answers"):
                db.execute(f"DELETE FROM {table}")  # noqa: S608 (fixed table names)
