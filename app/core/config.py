"""Settings: every option the service reads from its environment, validated at start."""

import os
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

APP_NAME = "u4ssc-calendar"


def default_data_dir() -> Path:
    """The default store's folder: one per user, whatever folder a command runs in (issue 24: a
    store under ./data made every folder its own calendar). $XDG_DATA_HOME/u4ssc-calendar, else
    ~/.local/share/u4ssc-calendar, as the XDG base directory specification says."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"
    return base / APP_NAME


def default_database_url() -> str:
    return f"sqlite:///{default_data_dir() / 'u4ssc-calendar.db'}"


class Settings(BaseSettings):
    """Each field is documented in the README's configuration table (a test checks it)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL of the store: SQLite file or postgresql+psycopg://...; "
        "unset: $XDG_DATA_HOME/u4ssc-calendar/u4ssc-calendar.db (~/.local/share/...).",
    )
    admin_token: str | None = Field(
        default=None,
        description="A bearer token accepted for writes; unset and no issued token: no writes.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base URL for links in feeds, JSON and pages; unset: taken from the request.",
    )
    uid_domain: str = Field(
        default="u4ssc.itu.int",
        description="Domain after '@' in every iCalendar UID. Never change it once published.",
    )
    organizer_email: str = Field(
        default="u4ssc@itu.int",
        description="The secretariat's address, the ORGANIZER of every event.",
    )
    refresh_hours: int = Field(
        default=6,
        ge=1,
        le=168,
        description="Refresh hint of feeds (REFRESH-INTERVAL, X-PUBLISHED-TTL, Cache-Control).",
    )
    cancelled_retention_days: int = Field(
        default=90,
        ge=0,
        le=3650,
        description="Days after its date that a cancelled meeting stays in feeds.",
    )
    seed_file: Path | None = Field(
        default=None,
        description="Seed loaded into a fresh, empty database; default: the bundled action plan.",
    )
    auto_seed: bool = Field(
        default=True, description="Load the seed when the service starts on an empty database."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="'json': one JSON line per request."
    )
    port: int = Field(default=8000, ge=1, le=65535, description="Port the server listens on.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes `serve` starts (one per core)."
    )
    access_log: bool = Field(
        default=False,
        description="uvicorn's access line for every request (LOG_FORMAT=json writes its own). "
        "Off: only answers of 500 and above, and errors, are logged.",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-* headers are trusted ('*' for any).",
    )
    max_body_bytes: int = Field(
        default=65536, ge=1024, description="Largest request body accepted; larger: 413."
    )
    allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated Host names answered ('*': any); others get 400. Unset: "
        "the host of PUBLIC_BASE_URL, localhost, 127.0.0.1 and [::1].",
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Database connections per process; also the most requests served at once.",
    )
    read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time a client has to send a request's headers, and then its body.",
    )

    session_idle_hours: float = Field(
        default=8,
        gt=0,
        le=24 * 30,
        description="A console session unused for this long ends; the person signs in again.",
    )
    signin_concurrent_checks: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Password checks (argon2id, 64 MiB each) running at once per process.",
    )
    signin_wait_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="How long a sign-in waits for a free check before 503 with Retry-After.",
    )
    signin_failures_per_address: int = Field(
        default=10, ge=1, le=1000, description="Failed sign-ins from one address per window."
    )
    signin_failures_per_account: int = Field(
        default=10,
        ge=1,
        le=1000,
        description="Failed sign-ins on one account per window, from any addresses; then only "
        "the address that last signed in to it gets in until the window passes.",
    )
    signin_window_seconds: int = Field(
        default=300, ge=10, le=86_400, description="The window the sign-in limits count in."
    )

    smtp_url: str | None = Field(
        default=None,
        description="SMTP server for announcements: smtp://user:password@host:587 (STARTTLS "
        "when offered) or smtps://... (implicit TLS).",
    )
    mail_from: str | None = Field(
        default=None, description="From address of announcements; unset: ORGANIZER_EMAIL."
    )
    announce_to: str | None = Field(
        default=None, description="The mailing list that announcements go to."
    )
    announce_language: Literal["ar", "en", "es", "fr", "ru", "zh"] = Field(
        default="en",
        description="The language announcements to the mailing list are written in: one of the "
        "six UN languages (ar, en, es, fr, ru, zh).",
    )
    outbox_retry_seconds: float = Field(
        default=10.0,
        gt=0,
        le=30,
        description="Wait before the first retry of a failed delivery; doubled each time.",
    )
    outbox_give_up_hours: float = Field(
        default=72.0, gt=0, description="Hours after which an undelivered message is given up."
    )
    outbox_poll_seconds: float = Field(
        default=1.0, gt=0, le=60, description="How often the server's sender looks for messages."
    )
    outbox_lease_seconds: float = Field(
        default=120.0,
        ge=1,
        description="How long a sender holds a message it is delivering; after a crash, "
        "another sender sends it (under the same id) once this has passed.",
    )
    outbox_sender: bool = Field(
        default=True, description="Run the sender (mail, webhooks) inside the server."
    )
    outbox_call_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="The whole of one delivery (connect, send, the whole answer); then it is "
        "cut and retried. The lease is renewed while a delivery runs.",
    )
    outbox_response_bytes: int = Field(
        default=65_536,
        ge=0,
        le=10 * 2**20,
        description="Of a webhook receiver's answer, at most this much is read (and dropped).",
    )
    outbox_concurrency: int = Field(
        default=8,
        ge=1,
        le=100,
        description="Deliveries in flight at once per process, at most one per channel (mail, "
        "each webhook endpoint), so a stuck receiver delays only itself.",
    )
    smtp_allow_plain_auth: bool = Field(
        default=False,
        description="Allow SMTP AUTH without TLS, for a trusted relay on this host or network; "
        "otherwise credentials are sent only after STARTTLS (or over smtps://).",
    )

    mail_per_second: float = Field(
        default=10.0,
        gt=0,
        le=1000,
        description="Mails handed to the SMTP server per second per process, at most: 10,000 "
        "invitations do not flood the relay.",
    )
    subscribe_per_client: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="Subscribe requests one client address may make per hour; then 429.",
    )
    confirm_days: float = Field(
        default=7, gt=0, le=30, description="Days a confirmation link stays valid."
    )
    confirm_every_minutes: float = Field(
        default=10,
        ge=0,
        le=1440,
        description="At most one confirmation mail per address in this many minutes.",
    )
    invitation_refusals: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Permanent refusals (5xx) in a row after which an address gets no more "
        "invitations (counted in the console).",
    )
    invitation_batch: int = Field(
        default=100,
        ge=1,
        le=10_000,
        description="Invitations written per transaction when a change is fanned out to its "
        "subscribers.",
    )

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url_is_smtp(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme, _, rest = value.partition("://")
        host = rest.rpartition("@")[2].split("/")[0].split(":")[0]
        if scheme not in ("smtp", "smtps") or not host:
            raise ValueError(
                "SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
            )
        return value

    @field_validator("mail_from", "announce_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if "@" not in value or any(c in value for c in "\r\n"):
            raise ValueError("must be an e-mail address, like u4ssc@itu.int")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _database_url_is_supported(cls, value: str) -> str:
        # Plain postgres:// URLs (as hosting platforms hand them out) mean the bundled driver.
        for plain in ("postgres://", "postgresql://"):
            if value.startswith(plain):
                value = "postgresql+psycopg://" + value[len(plain) :]
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "DATABASE_URL must look like sqlite:///path/to/file.db or "
                "postgresql+psycopg://user:password@host:5432/database"
            ) from None
        if url.drivername not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
            raise ValueError(
                f"DATABASE_URL names an unsupported database {url.drivername!r}; "
                "use sqlite:///... or postgresql+psycopg://..."
            )
        if url.drivername.startswith("postgresql") and not (url.host and url.database):
            raise ValueError("DATABASE_URL for PostgreSQL needs a host and a database name")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url_is_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("PUBLIC_BASE_URL must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("admin_token")
    @classmethod
    def _token_is_strong(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if len(value) < 16:
            raise ValueError("ADMIN_TOKEN must be at least 16 characters")
        if value in {"changeme", "changethis", "secret", "admin"}:
            raise ValueError("ADMIN_TOKEN is a placeholder; set a real secret")
        return value

    @property
    def hosts(self) -> frozenset[str]:
        """The Host names (lower case, without port) this service answers to."""
        if self.allowed_hosts:
            names = [name.strip().lower() for name in self.allowed_hosts.split(",")]
            return frozenset(name for name in names if name)
        local = {"localhost", "127.0.0.1", "[::1]"}
        if self.public_base_url:
            host = urlsplit(self.public_base_url).hostname
            if host:
                local.add(f"[{host}]" if ":" in host else host.lower())
        return frozenset(local)

    def base_url(self, request_base_url: str) -> str:
        """Links' base: PUBLIC_BASE_URL, or the request's own (scheme, canonical Host, root)."""
        return self.public_base_url or request_base_url.rstrip("/")

    @property
    def keeps_rendered_texts(self) -> bool:
        """Whether rendered event texts are kept in the store. Their contexts must be a fixed set
        derived from the settings (issue 21): PUBLIC_BASE_URL, or the ALLOWED_HOSTS names on the
        server's own port. With ALLOWED_HOSTS '*' and no PUBLIC_BASE_URL, any Host is a context
        of its own: texts are then rendered in memory only, so no request can add rows."""
        return bool(self.public_base_url) or "*" not in self.hosts

    @property
    def refresh_interval(self) -> timedelta:
        return timedelta(hours=self.refresh_hours)

    @property
    def session_idle(self) -> timedelta:
        return timedelta(hours=self.session_idle_hours)


@lru_cache
def get_settings() -> Settings:
    return Settings()
