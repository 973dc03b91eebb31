"""Settings: one pydantic-settings model, env prefix RUM_, optional TOML file."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CsvList = Annotated[list[str], NoDecode]


def _split_csv(value: Any) -> Any:
    """Accept `a,b,c` (env style) as well as a real list (TOML style)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of the product; each is documented in the README with its default."""

    model_config = SettingsConfigDict(env_prefix="RUM_", extra="forbid")

    host: str = Field("127.0.0.1", description="address `rum serve` listens on")
    port: int = Field(8080, ge=0, le=65535, description="port `rum serve` listens on")
    data_dir: Path = Field(Path(".rum-data"), description="embedded chDB data and spool")
    clickhouse_url: str | None = Field(None, description="ClickHouse server; unset = chDB")
    kafka_bootstrap: str | None = Field(None, description="Kafka bootstrap; unset = no Kafka")
    kafka_topic: str = Field("rum-events", pattern=r"^[A-Za-z0-9._-]{1,200}$",
                             description="topic the collectors produce to")
    kafka_dlq_topic: str = Field("rum-events-dlq", pattern=r"^[A-Za-z0-9._-]{1,200}$",
                                 description="dead-letter topic for undecodable messages")
    kafka_partitions: int = Field(6, ge=1, le=10_000, description="partitions when creating the topic")
    kafka_replication: int = Field(1, ge=1, le=16, description="replication factor when creating it")
    kafka_group: str = Field("rum-pipeline", min_length=1, description="pipeline consumer group")
    kafka_idempotent: bool = Field(True, description="idempotent producer (needs broker support)")
    kafka_compression: str = Field("zstd", pattern="^(zstd|lz4|gzip|none)$",
                                   description="producer compression")
    kafka_linger_ms: int = Field(20, ge=0, le=5000, description="producer linger (batching)")
    spool_max_bytes: int = Field(1 << 30, ge=1 << 16, description="disk spool bound; full = 503")
    spool_segment_bytes: int = Field(16 << 20, ge=1 << 12, description="spool segment file size")
    spool_fsync_seconds: float = Field(1.0, ge=0, le=60, description="spool fsync interval; 0 = each write")
    geoip_db: Path | None = Field(None, description="MaxMind-format City/Country .mmdb")
    geoip_asn_db: Path | None = Field(None, description="MaxMind-format ASN .mmdb")
    maxmind_license_key: str | None = Field(
        None, description="`rum geoip download` fetches GeoLite2-City with it (else DB-IP City Lite)")
    geoip_refresh_days: float = Field(
        0, ge=0, le=365, description="`rum serve` re-downloads the data dir's GeoIP database when it is "
        "this many days old (0 = never; only when RUM_GEOIP_DB is unset)")
    geoip_url: str | None = Field(
        None, description="download the GeoIP database from this URL (a mirror) instead of DB-IP/MaxMind")
    geo_country_header: str | None = Field(
        None, description="CDN country header (e.g. CF-IPCountry), believed from trusted proxies"
    )
    trusted_proxies: CsvList = Field(default_factory=list, description="CIDRs trusted for XFF")
    allowed_origins: CsvList = Field(default_factory=lambda: ["*"], description="CORS origins")
    max_body_bytes: int = Field(65536, ge=1024, le=16 * 1024 * 1024)
    retention_days: int = Field(30, ge=1, le=3650, description="TTL of raw events and rollups")
    rollup_interval: float = Field(
        30.0, ge=0, le=3600, description="seconds between rollup cycles (0 = no rollups)"
    )
    batch_max_rows: int = Field(50_000, ge=1, le=1_000_000,
                                description="rows (records on the Kafka path) per insert")
    batch_max_seconds: float = Field(1.0, gt=0, le=60)
    background_nice: int | None = Field(
        None, ge=0, le=19, description="nice value `rum serve` and `rum collector` give their "
        "threads other than the event loop's (ClickHouse's, helpers'), so that answering beacons "
        "comes first; `rum serve`'s loop yields to its writer when it falls behind "
        "(collector/priority.py); 0 = unchanged; unset = 19 for `rum serve` (its writer shares "
        "the loop's core), unchanged for `rum collector`")
    buffer_max_rows: int = Field(200_000, ge=1, description="accepted rows held while storage is down")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")
    beacon_dir: Path | None = Field(None, description="folder holding the built rum.js")
    dashboard_dir: Path | None = Field(None, description="folder holding the built dashboard")
    # intake hardening: rate limits (0 = off), slow clients, site registry, privacy
    rate_limit_ip: float = Field(50.0, ge=0, description="beacons/s per client IP")
    rate_burst_ip: int = Field(100, ge=1, description="burst per client IP")
    rate_limit_site: float = Field(10_000.0, ge=0, description="beacons/s per site key")
    rate_burst_site: int = Field(20_000, ge=1, description="burst per site key")
    header_timeout: float = Field(10.0, gt=0, le=300, description="seconds to send request headers")
    body_timeout: float = Field(10.0, gt=0, le=300, description="seconds to send a request body")
    max_connections: int = Field(2048, ge=1, description="concurrent connections+requests")
    max_header_bytes: int = Field(
        16384, ge=1024, le=1024 * 1024, description="request line + headers, bytes (431 past it)"
    )
    max_headers: int = Field(100, ge=8, le=1000, description="header fields per request (431 past it)")
    sites_file: Path | None = Field(None, description="TOML site registry; unset = any site key")
    keep_query_params: CsvList = Field(
        default_factory=lambda: ["utm_*"], description="query params kept on page URLs (globs)"
    )
    # alerting (alerts/): rules file, evaluation tick, webhook delivery
    alert_rules: Path | None = Field(None, description="alert rules file (YAML or TOML)")
    alert_interval: float = Field(30.0, ge=0.05, le=3600, description="seconds between evaluations")
    alert_allow_private_webhooks: bool = Field(
        False, description="allow webhooks to loopback/private/link-local addresses"
    )
    alert_delivery_max_age: float = Field(
        86400.0, gt=0, description="seconds a notification is retried before it expires"
    )
    public_url: str | None = Field(None, description="base URL used in alert links")
    intake_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
                                   description="public base URL of rum.js and /v1/beacon in the snippet")
    # the read side (query API, /metrics, docs): a separate listener and/or bearer tokens
    admin_host: str = Field("127.0.0.1", description="address of the admin listener")
    admin_port: int | None = Field(None, ge=0, le=65535, description="admin listener port")
    api_tokens: CsvList = Field(
        default_factory=list, description="bearer tokens for the read side", repr=False
    )

    @field_validator("trusted_proxies", "allowed_origins", "keep_query_params", "api_tokens",
                     mode="before")
    @classmethod
    def _csv(cls, value: Any) -> Any:
        return _split_csv(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"not a CIDR: {cidr!r}") from exc
        return value

    @field_validator("api_tokens")
    @classmethod
    def _tokens(cls, value: list[str]) -> list[str]:
        if any(len(token) < 16 for token in value):
            raise ValueError("each token needs at least 16 characters")
        return value

    @model_validator(mode="after")
    def _read_side_not_public(self) -> Settings:
        # exposing the collector must never expose the data: a public bind needs a
        # separate admin listener or tokens for the read side
        if not is_loopback(self.host) and self.admin_port is None and not self.api_tokens:
            raise ValueError(
                f"RUM_HOST={self.host} is not loopback: set RUM_ADMIN_PORT (read side on a "
                "separate loopback listener) or RUM_API_TOKENS (bearer tokens)"
            )
        if self.admin_port is not None and not is_loopback(self.admin_host) and not self.api_tokens:
            raise ValueError(
                f"RUM_ADMIN_HOST={self.admin_host} is not loopback: the read side would have "
                "no auth; set RUM_API_TOKENS (bearer tokens) or keep it on loopback"
            )
        return self

    @field_validator("geoip_db", "geoip_asn_db", "sites_file", "alert_rules")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @field_validator("clickhouse_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value or None

    @property
    def city_db(self) -> Path | None:
        """RUM_GEOIP_DB, else the database `rum geoip download` put in the data dir, if any."""
        if self.geoip_db is not None:
            return self.geoip_db
        downloaded = self.downloaded_city_db
        return downloaded if downloaded.is_file() else None

    @property
    def downloaded_city_db(self) -> Path:
        """Where `rum geoip download` and the refresh install the City database."""
        return self.data_dir / "geoip" / "city.mmdb"

    @property
    def embedded(self) -> bool:
        """True when storage is the in-process chDB engine."""
        return self.clickhouse_url is None


def is_loopback(host: str) -> bool:
    """Whether an address or host name is this machine only (localhost, 127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SettingsError(ValueError):
    """A settings problem worth one clear line to the user."""


def load_settings(config: str | Path | None = None, **overrides: Any) -> Settings:
    """Build settings from overrides > RUM_* env > TOML file (`config` or RUM_CONFIG)."""
    path = config or os.environ.get("RUM_CONFIG")
    if path and not Path(path).is_file():
        raise SettingsError(f"config file not found: {path}")
    toml_path = Path(path) if path else None

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if toml_path is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
            return tuple(sources)

    try:
        return _Settings(**overrides)
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise SettingsError(_one_line(exc)) from exc


def _one_line(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):
        parts = []
        for err in errors():
            loc = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"RUM_{loc.upper()}: {err.get('msg')}" if loc else str(err.get("msg")))
        return "invalid settings: " + "; ".join(parts)
    return f"invalid settings: {exc}"
