"""Shared fixtures.

Service tests run twice, on SQLite and on a real PostgreSQL. Tests that need
PostgreSQL or Chromium skip with a reason when those are missing, except under
``RELEASEWISE_REQUIRE_ALL=1`` (set by .ci/run), where a missing part fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from releasewise.clock import FrozenClock, SystemClock
from releasewise.config import Settings
from releasewise.domain.audit import GENESIS_HASH
from releasewise.notify.mail import MemoryMailer
from releasewise.services import accounts, orgs, projects
from releasewise.services.runtime import Actor, Runtime
from releasewise.store import migrate
from releasewise.store.db import Database
from releasewise.store.schema import metadata
from tests.support.postgres import start_throwaway

REQUIRE_ALL = os.environ.get("RELEASEWISE_REQUIRE_ALL") == "1"
PASSWORD = "correct horse battery staple"


def unavailable(reason: str) -> None:
    """Skip, or fail when the CI demands every part be present."""
    if REQUIRE_ALL:
        pytest.fail(f"RELEASEWISE_REQUIRE_ALL=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    explicit = os.environ.get("RELEASEWISE_TEST_POSTGRES_URL")
    if explicit:
        yield explicit
        return
    server, reason = start_throwaway()
    if server is None:
        os.environ["RELEASEWISE_TEST_POSTGRES_UNAVAILABLE"] = reason
        yield None
        return
    try:
        yield server.url
    finally:
        server.stop()


_databases: dict[str, Database] = {}


def _database(url: str) -> Database:
    """One migrated database per backend for the whole session."""
    if url not in _databases:
        db = Database(url)
        if db.is_postgresql:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(db.engine)
        _databases[url] = db
    return _databases[url]


def _wipe(db: Database) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.is_postgresql:
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
        conn.execute(text("INSERT INTO audit_chain_heads (chain_key, seq, hash) VALUES ('instance', 0, :h)"),
                     {"h": GENESIS_HASH})


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    if request.param == "sqlite":
        return sqlite_url
    url = request.getfixturevalue("postgres_url")
    if url is None:
        unavailable(f"PostgreSQL unavailable: {os.environ.get('RELEASEWISE_TEST_POSTGRES_UNAVAILABLE')}")
    return str(url)


def fast_hasher() -> PasswordHasher:
    """Real argon2id with small costs: the suite hashes hundreds of passwords."""
    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def make_runtime(url: str, data_dir: Path, **settings: object) -> Runtime:
    db = _database(url)
    _wipe(db)
    return Runtime(
        db=db,
        settings=Settings(data_dir=data_dir, database_url=url, secret_key="test-secret", **settings),
        mailer=MemoryMailer(),
        clock=FrozenClock(SystemClock().now()),
        password_hasher=fast_hasher(),
    )


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Runtime:
    """A runtime on a clean database (both backends); the clock is frozen at 'now'."""
    return make_runtime(db_url, tmp_path)


@pytest.fixture
def sqlite_rt(sqlite_url: str, tmp_path: Path) -> Runtime:
    """A runtime on SQLite only, for entry-point tests (API, web, CLI, browser)."""
    return make_runtime(sqlite_url, tmp_path)


def make_user(rt: Runtime, username: str) -> Actor:
    accounts.sign_up(rt, username=username, email=f"{username}@example.org", password=PASSWORD,
                     display_name=username.title())
    return accounts.authenticate_password(rt, login=username, password=PASSWORD, ip="127.0.0.1")


def join(rt: Runtime, owner: Actor, org_slug: str, member: Actor, role: str) -> None:
    _, link = orgs.invite_member(rt, owner, org_slug, email=f"{member.username}@example.org", role=role)
    orgs.accept_invitation(rt, member, link.rsplit("/", 1)[-1])


@dataclass
class World:
    """Two organisations: Lab A with one member per role, Lab B owned by an outsider."""

    rt: Runtime
    owner: Actor
    lead: Actor
    researcher: Actor
    reviewer: Actor
    viewer: Actor
    outsider: Actor


def build_world(rt: Runtime) -> World:
    owner = make_user(rt, "olivia")
    people = {role: make_user(rt, name) for role, name in
              [("release_lead", "leo"), ("researcher", "rita"), ("reviewer", "rafa"), ("viewer", "vic")]}
    outsider = make_user(rt, "oscar")
    orgs.create_org(rt, owner, name="Lab A", slug="lab-a")
    for role, actor in people.items():
        join(rt, owner, "lab-a", actor, role)
    projects.create_project(rt, people["release_lead"], "lab-a", name="Echo", slug="echo", modality="audio")
    projects.create_asset(rt, people["researcher"], "lab-a", "echo", name="Weights 1B", kind="weights")
    orgs.create_org(rt, outsider, name="Lab B", slug="lab-b")
    projects.create_project(rt, outsider, "lab-b", name="Secret", slug="secret")
    return World(rt, owner, people["release_lead"], people["researcher"], people["reviewer"], people["viewer"],
                 outsider)


@pytest.fixture
def world(rt: Runtime) -> World:
    return build_world(rt)


@pytest.fixture
def sqlite_world(sqlite_rt: Runtime) -> World:
    return build_world(sqlite_rt)
