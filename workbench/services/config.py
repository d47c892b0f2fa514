"""Settings: the only place that reads the environment (prefix ``WORKBENCH_``), with
:mod:`workbench.services.environ` for the two reads made without Settings (piped output's width, secrets
to mask on failure)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from workbench.core.redact import mask_url

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Workbench settings.

    With ``database_url`` / ``redis_url`` unset the workbench starts its own embedded PostgreSQL and
    Redis under ``data_dir`` (the *embedded default*). Values come from keyword arguments, then
    ``WORKBENCH_*`` environment variables, then a ``.env`` file in the working directory.
    """

    model_config = SettingsConfigDict(env_prefix="WORKBENCH_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, description="postgresql://user@host:port/db; unset = embedded PostgreSQL"
    )
    redis_url: str | None = Field(default=None, description="redis://host:port/db; unset = embedded Redis")
    cache_enabled: bool = True
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("workbench")),
        description="embedded servers' data and state",
    )
    reports_dir: Path = Path("reports")
    notebooks_dir: Path | None = Field(
        default=None, description="a directory of your own report notebooks (`workbench report NAME` runs "
                                  "them by name, besides the shipped ones); unset = only the shipped ones"
    )
    archive_url: str | None = Field(
        default=None, description="Parquet archive of market history: a directory or a pyarrow/fsspec URL "
                                  "(s3://bucket/prefix); unset = data_dir/archive"
    )
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=20, ge=0)
    pool_timeout: float = Field(default=30.0, gt=0, description="seconds to wait for a pooled connection")
    single_connection: bool = Field(
        default=False, description="server serves one connection at a time (PGlite): no pool, no COPY FROM STDIN"
    )
    username: str = Field(default="local", description="owner of strategies and backtests")
    bithumb_base_url: str = "https://api.bithumb.com"
    telegram_api_url: str = Field(default="https://api.telegram.org", description="Telegram Bot API base URL")
    telegram_bot_token: SecretStr | None = Field(default=None, description="bot token; unset = no Telegram")
    smtp_host: str | None = Field(default=None, description="SMTP relay for notification mail; unset = no mail")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "workbench@localhost"
    smtp_user: str | None = Field(default=None, description="SMTP login (AUTH); unset = no login")
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=False, description="upgrade the SMTP connection with STARTTLS")
    smtp_ca_file: Path | None = Field(default=None, description="CA certificates that sign the SMTP server's "
                                                                 "certificate; unset = the system's")
    # thresholds of `workbench monitor --check` (unset = that check is off)
    monitor_disk_free_min_pct: float | None = Field(default=10.0, ge=0, le=100,
                                                    description="alarm when a disk has less free space (%)")
    monitor_connections_max_pct: float | None = Field(
        default=80.0, ge=0, le=100, description="alarm when client connections exceed this % of max_connections")
    monitor_redis_memory_max_pct: float | None = Field(
        default=90.0, ge=0, le=100, description="alarm when Redis uses more than this % of its maxmemory")
    monitor_hit_rate_min_pct: float | None = Field(default=50.0, ge=0, le=100,
                                                   description="alarm when the Redis hit rate is lower (%)")
    monitor_hit_rate_min_lookups: int = Field(default=1000, ge=0,
                                              description="lookups needed before the hit rate is judged")
    monitor_archive_lag_max_days: float | None = Field(
        default=35.0, gt=0, description="alarm when a table's archive watermark is older (days)")
    monitor_alarm_users: str | None = Field(default=None, description="comma-separated users told of monitoring "
                                                                      "alarms; unset = WORKBENCH_USERNAME")

    @property
    def archive_location(self) -> str:
        """Where the Parquet archive lives (``archive_url`` or ``data_dir/archive``)."""
        return self.archive_url or str(self.data_dir / "archive")

    def __repr_args__(self) -> Iterator[tuple[str | None, object]]:
        """As pydantic's, with passwords in the URLs masked."""
        for name, value in super().__repr_args__():
            masked = name in ("database_url", "redis_url", "archive_url") and isinstance(value, str) and value
            yield name, (mask_url(value) if masked else value)

    @field_validator("database_url", "redis_url", "archive_url", "notebooks_dir", "telegram_bot_token", "smtp_host",
                     "smtp_user", "smtp_password", "smtp_ca_file", "monitor_disk_free_min_pct",
                     "monitor_connections_max_pct", "monitor_redis_memory_max_pct", "monitor_hit_rate_min_pct",
                     "monitor_archive_lag_max_days", "monitor_alarm_users", mode="before")
    @classmethod
    def _blank_is_none(cls, v: object) -> object:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
            raise ValueError(f"database_url must start with postgresql:// (got {mask_url(v)!r})")
        return v

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"redis_url must start with redis://, rediss:// or unix:// (got {mask_url(v)!r})")
        return v
