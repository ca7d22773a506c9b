"""One settings object for the whole application, read from the environment and `.env`."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.quiet import QuietHours

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_PLACEHOLDER_SECRETS = {"changeme", "change-me", "secret", "xxx", "todo"}


class Settings(BaseSettings):
    """Configuration; the environment variable names are part of the deployment interface."""

    model_config = SettingsConfigDict(
        env_file=PROJECT_ROOT / ".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'pkh.sqlite3'}",
        validation_alias="DATABASE_URL",
    )
    nlu_url: str = Field(default="http://127.0.0.1:5005", validation_alias="NLU_URL")
    # Every Rasa server behind NLU_URL's load balancer, comma-separated: a retrained model is
    # activated on each. Empty: NLU_URL is the one server.
    nlu_replica_urls: str = Field(default="", validation_alias="NLU_REPLICA_URLS")
    nlu_port: int = Field(default=5005, validation_alias="NLU_PORT")
    nlu_timeout_seconds: float = Field(default=2.0, validation_alias="NLU_TIMEOUT_SECONDS")
    telegram_bot_token: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", validation_alias="TELEGRAM_API_BASE_URL"
    )
    # The bot's @username without the @: the dashboard writes pendamping links as
    # https://t.me/<username>?start=<code>; unset, it shows the code and the /start command.
    telegram_bot_username: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$",
        validation_alias="TELEGRAM_BOT_USERNAME",
    )
    secret_key: SecretStr | None = Field(default=None, validation_alias="PKH_SECRET_KEY")
    # Webhook mode only: Telegram sends it in X-Telegram-Bot-Api-Secret-Token with every update.
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )

    # Local hours (in each recipient's WIB/WITA/WIT) with no bulk messages unless urgent; "off".
    quiet_hours: str = Field(default="21-6", validation_alias="QUIET_HOURS")
    # Outbox messages in flight at once (the crash window); Telegram's limit is the real cap.
    outbox_concurrency: int = Field(default=8, ge=1, le=64, validation_alias="OUTBOX_CONCURRENCY")
    # Messages per second this bot token may send, replies and bulk together. Telegram's free
    # limit is about 30; above it bulk messages go as paid broadcasts (up to 1,000 a second, at
    # 0.1 Telegram Star each; docs/scale.md).
    telegram_bulk_rate: float = Field(
        default=30.0, gt=0, le=1000, validation_alias="TELEGRAM_BULK_RATE"
    )
    # Questions one asker may add to the admins' inbox per day (WIB); the rest are only counted.
    inbox_daily_cap: int = Field(default=20, ge=1, validation_alias="INBOX_DAILY_CAP")

    # The dashboard's reverse proxies: the only peers whose X-Forwarded-For / X-Forwarded-Proto
    # uvicorn believes. Comma-separated addresses or networks ("127.0.0.1", "10.0.0.0/8"); empty,
    # the default, trusts no proxy, so the address a limit counts is the connection's own.
    forwarded_allow_ips: str = Field(default="", validation_alias="FORWARDED_ALLOW_IPS")

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        for entry in (part.strip() for part in value.split(",")):
            if entry and entry != "*":
                ipaddress.ip_network(entry, strict=False)  # raises ValueError with the entry
        return ",".join(part.strip() for part in value.split(",") if part.strip())

    # The Rasa environment (`make` sets it from RASA_VENV, so another checkout can reuse one).
    rasa_venv: Path = Field(default=PROJECT_ROOT / ".venv-rasa", validation_alias="PKH_RASA_VENV")

    @field_validator("quiet_hours")
    @classmethod
    def _valid_quiet_hours(cls, value: str) -> str:
        QuietHours.parse(value)  # raises ValueError with a clear message
        return value

    @field_validator("telegram_bot_token", "secret_key", "telegram_webhook_secret")
    @classmethod
    def _refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDER_SECRETS:
            raise ValueError("a placeholder is not a secret: set a real value")
        return value

    @property
    def models_dir(self) -> Path:
        return PROJECT_ROOT / "models"

    @property
    def rasa_executable(self) -> Path:
        return self.rasa_venv / "bin" / "rasa"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, built on first use (never at import time)."""
    return Settings()
