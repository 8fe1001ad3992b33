"""The composition root: builds the runtime's real adapters from settings, in one place."""

from __future__ import annotations

from releasewise.clock import Clock, SystemClock
from releasewise.config import Settings
from releasewise.notify.mail import FolderMailer, Mailer, SmtpMailer
from releasewise.services.runtime import Runtime
from releasewise.store import migrate
from releasewise.store.db import Database


def build_mailer(settings: Settings) -> Mailer:
    if settings.smtp_host:
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return FolderMailer(settings.data_dir / "outbox", settings.mail_from)


def build_runtime(settings: Settings, *, clock: Clock | None = None, mailer: Mailer | None = None,
                  migrate_schema: bool | None = None) -> Runtime:
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    if settings.migrate_on_start if migrate_schema is None else migrate_schema:
        migrate.upgrade(db.engine)
    return Runtime(db=db, settings=settings, mailer=mailer or build_mailer(settings), clock=clock or SystemClock())
