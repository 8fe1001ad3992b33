"""Engines and the unit of work.

One ``Database`` per process, built in the composition root (``app.py`` or the
CLI). Service functions open one unit of work each: a session and a
transaction that commits on success and rolls back on any error.

SQLite needs two adjustments to behave like a server database under
concurrent requests: WAL mode with a busy timeout, and ``BEGIN IMMEDIATE`` for
write transactions, so that a transaction that reads and then writes cannot
fail half-way because another writer committed in between.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

_write_transaction: ContextVar[bool] = ContextVar("releasewise_write_transaction", default=False)


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    return create_engine(url, poolclass=NullPool)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_transaction.get() else "BEGIN")


class Database:
    """Owns the engine and hands out units of work."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgresql = url.startswith("postgresql")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self, *, write: bool) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        token = _write_transaction.set(write)
        try:
            with self._sessions() as session:
                try:
                    yield session
                    if write:
                        session.commit()
                    # A read transaction just ends when the session closes;
                    # closing (unlike rollback) keeps loaded objects readable.
                except BaseException:
                    session.rollback()
                    raise
        finally:
            _write_transaction.reset(token)

    def dispose(self) -> None:
        self.engine.dispose()
