"""Schema migrations (Alembic), run by `releasewise db upgrade` and on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (all heads). Safe to run when already current.

    Capabilities may add migration branches that start from the same parent
    (each capability its own ``branch_labels``); "heads" applies them all.
    """
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Several processes may start at once; let one migrate at a time.
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(74201)")
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def autogenerate(engine: Engine, message: str) -> None:
    """Developer helper: write a new revision from the models' differences."""
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
