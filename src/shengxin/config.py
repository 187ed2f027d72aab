"""Settings: one pydantic-settings object, read from ``SHENGXIN_*`` environment variables.

Every field is documented in ``docs/settings.md``; ``tests/unit/test_settings_docs.py`` fails when
the two disagree. Rule: outside demo mode the secret key must be set to a non-default value of at
least 32 characters, otherwise :func:`get_settings` refuses to start.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET_KEY = "demo-secret-key-change-me"
PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_DISTRICT_FILE = PACKAGE_DIR / "reference" / "districts" / "yuhang.yaml"


class Settings(BaseSettings):
    """All settings of the platform. Environment variables: ``SHENGXIN_<FIELD NAME>``."""

    model_config = SettingsConfigDict(env_prefix="SHENGXIN_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory for the SQLite file, analytic snapshots, uploads and exports.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the operational store, e.g. "
            "postgresql+psycopg://user@127.0.0.1:5432/shengxin. Empty: SQLite file "
            "<data_dir>/shengxin.sqlite3."
        ),
    )
    secret_key: str = Field(
        default=DEFAULT_SECRET_KEY,
        description=(
            "Key that signs session cookies and CSRF tokens. Must be changed (32+ characters) "
            "unless demo mode is on."
        ),
    )
    demo: bool = Field(
        default=False,
        description="Demo mode: allows the default secret key and enables the demo accounts.",
    )
    district_file: Path = Field(
        default=DEFAULT_DISTRICT_FILE,
        description="YAML file describing the district (code, towns, departments). Default: Yuhang.",
    )
    cookie_secure: bool = Field(
        default=False,
        description="Mark the session cookie Secure (set true behind HTTPS).",
    )
    session_max_age_seconds: int = Field(
        default=8 * 3600, description="How long a login session lasts, in seconds."
    )
    login_max_failures: int = Field(
        default=5,
        description="Failed logins allowed per account and per client address within the window.",
    )
    login_window_seconds: int = Field(
        default=15 * 60, description="Window of the login rate limit, in seconds."
    )
    frontend_dir: Path = Field(
        default=PACKAGE_DIR.parent.parent / "node_modules",
        description="Where the npm-installed front-end libraries (HTMX, ECharts, Swagger UI) are.",
    )
    max_upload_bytes: int = Field(
        default=50 * 1024 * 1024, description="Largest accepted upload, in bytes."
    )
    # -- appeals and notifications (docs/appeals.md, docs/notify.md) --
    public_base_url: str = Field(
        default="",
        description="Base URL printed in appeal QR codes (e.g. https://qy.example.gov.cn); empty: "
        "the address the page was requested at.",
    )
    appeal_text_max_chars: int = Field(default=5000, description="Longest appeal text, in characters.")
    appeal_attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, description="Largest appeal attachment, in bytes."
    )
    appeal_attachment_max_count: int = Field(default=5, description="Most attachments per appeal.")
    appeal_qr_max_age_days: int = Field(
        default=730, description="Days a printed appeal QR code stays valid after it was issued."
    )
    notify_email_backend: str = Field(
        default="none",
        pattern="^(none|memory|smtp)$",
        description="How notifications are e-mailed: none (kept in the in-app outbox only), memory "
        "(kept in the process, for tests and demos) or smtp.",
    )
    notify_from: str = Field(default="shengxin@localhost", description="Sender address of notification e-mails.")
    notify_district_emails: str = Field(
        default="", description="Comma-separated addresses of the district desk (escalations, bounces)."
    )
    notify_unit_emails_file: Path | None = Field(
        default=None, description="YAML file mapping unit codes to lists of e-mail addresses."
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host.")
    smtp_port: int = Field(default=25, description="SMTP server port.")
    smtp_username: str | None = Field(default=None, description="SMTP login (empty: no login).")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_ssl: bool = Field(default=False, description="Connect to the SMTP server over TLS (SMTPS).")
    smtp_timeout_seconds: float = Field(default=10.0, description="SMTP connection timeout, in seconds.")
    payout_publicity_days: int = Field(
        default=5, ge=0, le=60,
        description="Working days a no-application payout round is publicly listed (公示) before approval; "
        "0 ends the publicity at once (tests, demos).",
    )
    payout_bank_file_max_bytes: int = Field(
        default=20 * 1024 * 1024, description="Largest bank result file or account list accepted, in bytes."
    )
    payout_objections_per_window: int = Field(
        default=5, ge=1,
        description="Objections one client address may lodge per login_window_seconds on the public list.",
    )
    payout_review_days: int = Field(
        default=5, ge=0, le=60,
        description="Working days a reviewer has to decide an instant application the rules could not settle.",
    )

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "Settings":
        if not self.demo and (self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32):
            raise ValueError(
                "SHENGXIN_SECRET_KEY is unset, default or shorter than 32 characters; set a long "
                "random value (python -c 'import secrets; print(secrets.token_urlsafe(48))') "
                "or run in demo mode with SHENGXIN_DEMO=true"
            )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The operational store URL: ``database_url`` or the SQLite file in ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shengxin.sqlite3').resolve()}"

    @property
    def analytic_dir(self) -> Path:
        """Where Parquet snapshots of the analytic store live."""
        return self.data_dir / "analytic"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()
