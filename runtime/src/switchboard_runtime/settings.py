"""Settings every Switchboard service shares, read from the environment."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from switchboard_runtime.auth import AuthConfig
from switchboard_runtime.kafka_settings import KafkaAccessSettings

MIN_SECRET_CHARS = 32
MAX_GC_THRESHOLD = 10_000_000


class CommonSettings(KafkaAccessSettings):
    """Environment variables understood by every service (names are part of the contract);
    the Kafka security ones are in KafkaAccessSettings."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated Kafka bootstrap servers (host:port)."
    )

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _servers_listed(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",")]
        if not all(servers):
            raise ValueError("list host:port pairs separated by commas, none of them empty")
        return ",".join(servers)

    def kafka_servers(self) -> list[str]:
        """KAFKA_BOOTSTRAP_SERVERS as a list: FastStream takes a string for one server."""
        return self.kafka_bootstrap_servers.split(",")

    redis_url: str = Field(
        "redis://127.0.0.1:6379/0", description="Redis (or Valkey) URL; rediss:// for TLS."
    )
    redis_cluster: bool = Field(
        False,
        description="true: REDIS_URL names one node of a Redis Cluster (db 0), from which "
        "the client discovers the rest; a redis+cluster:// (rediss+cluster://) URL says the "
        "same. Start-up checks that the server agrees (INFO cluster).",
    )
    redis_username: str | None = Field(
        None, description="Redis ACL user (or in REDIS_URL as rediss://user:password@host)."
    )
    redis_password: SecretStr | None = Field(None, description="Password of REDIS_USERNAME.")
    redis_tls_ca_file: str | None = Field(
        None,
        description="CA certificate (PEM) that signed the server's certificate, for a "
        "rediss:// URL; unset: the system's trusted CAs.",
    )
    redis_max_connections: int = Field(
        100,
        ge=1,
        le=10_000,
        description="Most Redis connections the service opens; past that a request waits "
        "for a free one (up to REDIS_POOL_TIMEOUT_SECONDS).",
    )
    redis_pool_timeout_seconds: float = Field(
        5,
        gt=0,
        le=60,
        description="Longest a request waits for a free Redis connection before it is "
        "answered 503 (storage unavailable).",
    )
    tenant_id: str = Field(
        "default",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="Tenant this deployment serves; its Redis keys share one hash tag.",
    )
    consumer_group_prefix: str = Field(
        "switchboard",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Consumer groups are named <prefix>-<service>; change it to run two "
        "independent deployments on one Kafka cluster.",
    )
    kafka_topic_partitions: int = Field(
        6, ge=1, le=1024, description="Partitions for topics the service creates."
    )
    kafka_replication_factor: int = Field(
        1, ge=1, le=7, description="Replication factor for topics the service creates."
    )
    kafka_enable_idempotence: bool = Field(
        False, description="Idempotent producer; turn on for real Kafka (Tansu refuses it)."
    )
    kafka_fetch_max_wait_ms: int = Field(
        500,
        ge=0,
        le=60_000,
        description="Longest a consumer's fetch waits when no record is there. Kafka answers "
        "as soon as a record arrives, so its default of 500 adds no latency there; the "
        "embedded Tansu answers only when the wait is over, so there this bounds each hop's "
        "latency (5 gives ~3 ms per hop for ~15 % of a core per idle consumer).",
    )
    kafka_linger_ms: int = Field(
        2,
        ge=0,
        le=1000,
        description="How long the producer holds a record to fill a batch: adds up to this "
        "much latency per hop, saves the broker a request per record.",
    )
    max_message_bytes: int = Field(
        65536, ge=1024, le=10_485_760, description="Commands larger than this go to the DLQ."
    )
    default_phone_region: str | None = Field(
        None,
        pattern=r"^[A-Z]{2}$",
        description="ISO country used to read national phone numbers (e.g. US, GB).",
    )
    log_format: Literal["auto", "json", "console"] = Field(
        "auto", description="auto = console on a terminal, JSON otherwise."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_events: bool = Field(
        True,
        description="One INFO line per event the service publishes, i.e. per state change "
        "(offer made, accepted, completed, ...), naming its ids and correlation id; false "
        "logs them at DEBUG.",
    )
    http_host: str = Field(
        "127.0.0.1",
        description="Interface the HTTP server binds (this machine only by default; "
        "0.0.0.0 in containers).",
    )
    gc_thresholds: Annotated[tuple[int, int, int], NoDecode] = Field(
        (20_000, 50, 100),
        description="Python's garbage collector thresholds (gc.set_threshold; Python's own "
        "are 700,10,10), applied when the service starts, after everything it loaded at "
        "start is frozen out of collection (gc.freeze). Higher values mean rarer full "
        "collections, each of which pauses the whole process: with 2,000 open desktop "
        "streams Python's own thresholds pause the gateway ~350 ms every ~4 s.",
    )
    outbox_batch_size: int = Field(
        500, ge=1, le=10_000, description="Outbox entries the relay publishes per round."
    )
    outbox_lease_ms: int = Field(
        3000, ge=200, le=60_000, description="How long a relay holds the outbox lease."
    )
    dedupe_ttl_seconds: int = Field(
        7 * 24 * 3600, ge=60, description="How long processed command ids are remembered."
    )
    idempotency_ttl_seconds: int = Field(
        24 * 3600, ge=60, description="How long an HTTP Idempotency-Key is remembered."
    )
    processing_attempts: int = Field(
        3, ge=1, le=100, description="Attempts at a command that fails on a bug before DLQ."
    )
    retention_days: float = Field(
        30,
        gt=0,
        le=3650,
        description="Days a closed record (a completed or cancelled item, a finished "
        "callback) and its history stay in Redis; open ones are kept until they close. "
        "workitem.archived carries the whole record for a longer-lived store.",
    )

    @field_validator("gc_thresholds", mode="before")
    @classmethod
    def _three_counts(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",")]
            if len(parts) != 3 or not all(part.isdigit() and len(part) <= 9 for part in parts):
                raise ValueError(f"three whole numbers, e.g. 20000,50,100 (not {value!r})")
            value = tuple(int(part) for part in parts)
        if isinstance(value, tuple) and not all(1 <= n <= MAX_GC_THRESHOLD for n in value):
            # 0 would switch collection off: cycles would pile up without bound
            raise ValueError(f"each threshold from 1 to {MAX_GC_THRESHOLD:,} (not {value!r})")
        return value

    @model_validator(mode="after")
    def _cluster_scheme(self) -> CommonSettings:
        scheme, sep, rest = self.redis_url.partition("://")
        if sep and scheme in ("redis+cluster", "rediss+cluster"):
            self.redis_url = f"{scheme.removesuffix('+cluster')}://{rest}"
            self.redis_cluster = True
        if self.redis_cluster and urlsplit(self.redis_url).path.strip("/") not in ("", "0"):
            raise ValueError("a Redis Cluster has only db 0: REDIS_URL must name no other")
        return self

    @property
    def retention_seconds(self) -> int:
        return max(1, round(self.retention_days * 86400))


class DeadlineSettings(CommonSettings):
    """Settings of the services that fire deadlines kept in Redis (router, callback)."""

    deadline_poll_ms: int = Field(
        50,
        ge=5,
        le=5000,
        description="Longest a timer sleeps before looking for deadlines added by other replicas.",
    )
    deadline_broker_timeout_ms: int = Field(
        2000,
        ge=10,
        le=60_000,
        description="Longest a timer round waits for Kafka's end offsets of the topic its "
        "deadlines are answered on (asked when a deadline is due and its partition's "
        "applied records do not reach it yet); past that its deadlines wait for the next "
        "round.",
    )


class BatchSettings(CommonSettings):
    """Settings of the services that apply records in batches (router, desktop gateway;
    see consume_batches.py)."""

    consume_batch_max: int = Field(
        500, ge=1, le=10_000, description="Most records applied together in one batch."
    )
    consume_wait_ms: int = Field(
        5,
        ge=0,
        le=1000,
        description="Longest the consumer waits to fill a batch; what has "
        "arrived is applied at once, so low load keeps low latency.",
    )


class CallbackRequestSettings(BaseSettings):
    """How the services that take callback requests (callback service, desktop gateway)
    read their times (see switchboard_schemas.callback_rules)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    callback_schedule_tolerance_seconds: float = Field(
        5,
        ge=0,
        le=3600,
        description="A scheduled_at at most this far in the past is accepted (clock skew) "
        "and means as soon as possible.",
    )

    @property
    def callback_schedule_tolerance(self) -> timedelta:
        return timedelta(seconds=self.callback_schedule_tolerance_seconds)


class AuthSettings(BaseSettings):
    """How the services with an HTTP API check their callers' tokens (see auth.py)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    auth_jwt_secret: SecretStr | None = Field(
        None,
        description="Shared secret of HS256 tokens (at least 32 characters); make run "
        "generates one.",
    )
    auth_jwks_url: str | None = Field(
        None, description="JWKS URL of an OpenID Connect provider (RS256 and ES256 tokens)."
    )
    auth_issuer: str | None = Field(None, description="Required `iss` of tokens, if set.")
    auth_audience: str | None = Field(None, description="Required `aud` of tokens, if set.")
    auth_leeway_seconds: int = Field(
        30, ge=0, le=300, description="Clock skew allowed when checking `exp`."
    )
    auth_disabled: bool = Field(
        False, description="true: no token is checked, every caller may do anything."
    )

    @field_validator(
        "auth_jwt_secret", "auth_jwks_url", "auth_issuer", "auth_audience", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _one_way_of_checking(self) -> AuthSettings:
        if self.auth_disabled:
            return self
        secret = self.auth_jwt_secret.get_secret_value() if self.auth_jwt_secret else ""
        if bool(secret) == bool(self.auth_jwks_url):
            raise ValueError(
                "set AUTH_JWT_SECRET or AUTH_JWKS_URL (one of them), or AUTH_DISABLED=true "
                "to accept every caller unchecked"
            )
        if secret and len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"AUTH_JWT_SECRET must be at least {MIN_SECRET_CHARS} characters")
        return self

    def auth_config(self) -> AuthConfig:
        secret = self.auth_jwt_secret.get_secret_value() if self.auth_jwt_secret else None
        return AuthConfig(
            secret=secret,
            jwks_url=self.auth_jwks_url,
            issuer=self.auth_issuer,
            audience=self.auth_audience,
            leeway_seconds=self.auth_leeway_seconds,
            disabled=self.auth_disabled,
        )
