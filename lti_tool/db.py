"""Engine, one session per request, and the declarative base.

Services flush and never commit; the request boundary commits once when the response is a success and
rolls back otherwise (see ``init_app``). CLI commands and workers use ``session_scope``.

Errors never carry the statement's parameters (names, subjects, emails): engines hide them. A SQLite file
holds the tool's private keys, so it is made owner-only (0600) before the engine first opens it, and an
existing file (and its -wal/-shm) with looser permissions is tightened at start-up.
"""
from __future__ import annotations

import contextlib
import logging
import os
import stat
from datetime import datetime, timezone
from typing import Iterator

from flask import Flask, current_app, g
from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone; PostgreSQL uses timestamptz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON()}


log = logging.getLogger(__name__)


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 if missing (SQLite gives its -wal and -shm the database file's mode);
    tighten an existing file, and its -wal/-shm, readable by others. In-memory databases are left alone."""
    database = make_url(url).database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except FileNotFoundError:  # its directory is missing: SQLite will say so when it opens the file
        return
    else:
        os.close(fd)
        return
    for suffix in ("", "-wal", "-shm"):
        path = database + suffix
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
                log.warning("database file was readable by others; made owner-only",
                            extra={"file": os.path.basename(path), "was": oct(mode)})
        except FileNotFoundError:
            continue
        except PermissionError:  # owned by another account: say so, do not refuse to start
            log.warning("database file is readable by others and not ours to change",
                        extra={"file": os.path.basename(path)})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no branch - runs per connection
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_sessionmaker"] = sessionmaker(bind=engine, expire_on_commit=False)

    @app.after_request
    def _commit_on_success(response):
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_appcontext
    def _close_session(_exc):
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()


def engine() -> Engine:
    return current_app.extensions["db_engine"]


def session() -> Session:
    """The session of the current request (or app context), opened on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["db_sessionmaker"]()
    return g.db_session


@contextlib.contextmanager
def session_scope(app: Flask | None = None) -> Iterator[Session]:
    """A unit of work outside a request (CLI, worker): commit on success, roll back on error."""
    app = app or current_app._get_current_object()
    db_session: Session = app.extensions["db_sessionmaker"]()
    try:
        yield db_session
        db_session.commit()
    except BaseException:
        db_session.rollback()
        raise
    finally:
        db_session.close()
