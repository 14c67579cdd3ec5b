"""Settings, read once from `SUPERAPP_*` variables and passed down; no logic reads the environment itself."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class _Group(BaseSettings):
    """One package's knobs, read from `SUPERAPP_<NAME>`; a misspelt keyword is an error, not ignored."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_", extra="forbid")


class AuthSettings(_Group):
    """api/auth.py: whose e-ID tokens are trusted."""

    eid_issuer: str = "https://eid.dev.superapp.local"
    eid_audience: str = "superapp"
    eid_public_key_file: Path | None = None
    eid_jwks_file: Path | None = None
    eid_accept_dev_key: bool | None = None
    eid_leeway_seconds: int = Field(default=30, ge=0, le=300)
    dev_issuer_key_file: Path | None = None
    eid_max_token_lifetime_seconds: int = Field(
        default=24 * 3600, ge=60, description="a token valid longer than this (exp - iat, or exp - now) is refused")


class GraphQLSettings(_Group):
    """api/graphql: what one request may ask, and which documents are trusted."""

    graphiql: bool | None = None
    max_page_size: int = Field(default=100, ge=1, le=1000)
    default_page_size: int = Field(default=20, ge=1, le=1000)
    query_max_depth: int = Field(default=10, ge=2)
    query_max_aliases: int = Field(default=15, ge=1)
    query_max_tokens: int = Field(default=2000, ge=50)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    persisted_only: bool | None = None
    persisted_manifest: Path | None = None
    apq_cache_size: int = Field(default=1000, ge=0)
    public_cache_max_age: int = Field(default=300, ge=0)
    query_max_cost: int = Field(default=5000, ge=100, description="an operation's cost budget (api/graphql/cost.py)")
    figures_cache_seconds: float = Field(default=60.0, ge=0, le=3600,
                                         description="how long public figures are kept in process (core/figures.py)")


class AgencySettings(_Group):
    """services/: which plug-ins run, their callbacks, the forward queue and the sandboxes."""

    services: str = Field(default="*", description="comma-separated service codes to enable, or * for all")
    agency_event_window_seconds: int = Field(default=300, ge=5, le=3600)
    forward_poll_seconds: float = Field(default=5.0, gt=0, le=3600)
    forward_max_backoff_seconds: float = Field(default=300.0, gt=0)
    sandbox_callback_url: str = "http://127.0.0.1:8000"
    sandbox_advance_seconds: float = Field(default=10.0, ge=0)
    sandbox_port_offset: int = Field(default=0, ge=-8000, le=50000,
                                     description="moves every sandbox's default loopback port (built-ins 8101-8104)")
    forward_lease_seconds: float = Field(default=60.0, gt=0, le=3600,
                                         description="a forwarder's hold on the jobs it sends (a crash delays them)")
    flag_cache_seconds: float = Field(default=10.0, ge=0, le=3600,
                                      description="how long a process keeps the feature flags before re-reading them")

    def enabled_services(self) -> list[str] | None:
        """The service codes SUPERAPP_SERVICES names, or None for every installed one."""
        if self.services.strip() in ("", "*"):
            return None
        return [code.strip() for code in self.services.split(",") if code.strip()]


class SyncSettings(_Group):
    """sync/: page sizes and retention of the offline-sync protocol (`SUPERAPP_SYNC_*`)."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_SYNC_", extra="forbid")

    epoch: int = Field(default=1, ge=1, description="bump after a breaking change: every device resets")
    tombstone_retention_days: int = Field(default=180, ge=1)
    page_limit: int = Field(default=200, ge=1, le=5000)
    page_max_bytes: int = Field(default=24_576, ge=1024)
    push_max_mutations: int = Field(default=100, ge=1, le=1000)


class NotificationSettings(_Group):
    """notifications/: FCM, the SMS gateway, the worker's pace and the loopback stand-ins."""

    fcm_endpoint: str | None = Field(default=None, description="FCM base URL; the loopback stand-in outside production")
    fcm_project_id: str = "superapp-dev"
    fcm_credentials_file: Path | None = None
    fcm_http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    fcm_sdk_retries: int = Field(default=0, ge=0, le=4)
    sms_gateway_url: str | None = None
    sms_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    sms_ascii: bool = True
    worker_batch_size: int = Field(default=200, ge=1, le=500)
    worker_poll_seconds: float = Field(default=0.2, gt=0, le=60)
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    notify_min_backoff_seconds: float = Field(default=1.0, gt=0)
    notify_max_backoff_seconds: float = Field(default=300.0, gt=0)
    notify_give_up_seconds: float = Field(default=6 * 3600.0, gt=0)
    standin_fcm_port: int = Field(default=8110, ge=1, le=65535)
    standin_sms_port: int = Field(default=8111, ge=1, le=65535)


class RetentionSettings(_Group):
    """core/retention.py: how long finished rows are kept, and how `superapp maintenance` deletes them
    (`SUPERAPP_RETENTION_*`). The reasoning behind each default is in docs/SCALING.md, "Retention"."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_RETENTION_", extra="forbid")

    interval_seconds: float = Field(default=3600.0, ge=0, description="the worker's schedule; 0: only the CLI")
    batch_size: int = Field(default=1000, ge=1, le=10_000)
    outbox_days: float = Field(default=7.0, gt=0)
    read_notification_days: float = Field(default=180.0, gt=0)
    sync_answer_days: float = Field(default=35.0, ge=30, description="at least the 30 days an app keeps answers")
    agency_event_days: float = Field(default=30.0, ge=1)
    forward_job_days: float = Field(default=30.0, gt=0)
    announcement_days: float = Field(default=30.0, ge=0, description="kept after they end or are withdrawn")
    app_usage_days: float = Field(default=180.0, ge=1, description="usage rows of app versions not seen since")


class LogFormat(StrEnum):
    JSON = "json"
    TEXT = "text"


class ServerSettings(_Group):
    """api/server.py, api/metrics.py, core/log_format.py: slow clients, sockets, /metrics and log lines."""

    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300,
                                          description="from a connection or a request's first byte to its last header")
    body_timeout_seconds: float = Field(default=20.0, gt=0, le=3600, description="to read a request body, plus"
                                        " one second per SUPERAPP_BODY_MIN_RATE_BYTES received")
    body_min_rate_bytes: int = Field(default=500, ge=0, description="bytes/s a slow upload must keep up to go on")
    ws_max_per_citizen: int = Field(default=5, ge=1, description="open WebSockets of one citizen, per worker")
    ws_max_per_ip: int = Field(default=200, ge=1, description="open WebSockets from one IP, per worker (CGNAT)")
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0, le=600,
                                           description="a socket without connection_init closes (4408) after this")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, description="serve /metrics on this port only")
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr | None = Field(default=None, description="bearer token /metrics requires")
    log_format: LogFormat | None = Field(default=None, description="json (production default) or text")


class QuotaSettings(_Group):
    """api/quota.py: how much each citizen, client IP and agency service may ask, weighted by cost
    (`SUPERAPP_QUOTA_*`). A limit is `<name>_limit` cost units per `<name>_period_seconds`, refilled
    evenly (GCRA), so a full burst of `limit` is allowed after a quiet period. The defaults are far above
    what an app (or the demo) sends, and far below a flood; each at least the cost budget
    (`SUPERAPP_QUERY_MAX_COST`, 5,000), so the most expensive operation allowed can run after a quiet period."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_QUOTA_", extra="forbid")

    enabled: bool = True
    backend: str = Field(default="auto", pattern=r"^(auto|memory|database)$",
                         description="auto: the database when it is PostgreSQL (shared by workers), else memory")
    citizen_limit: int = Field(default=10_000, ge=1)
    citizen_period_seconds: float = Field(default=60.0, gt=0)
    ip_limit: int = Field(default=20_000, ge=1)
    ip_period_seconds: float = Field(default=60.0, gt=0)
    service_limit: int = Field(default=6000, ge=1)
    service_period_seconds: float = Field(default=60.0, gt=0)
    submissions_per_day: int = Field(default=100, ge=1, description="per citizen, calendar day in SUPERAPP_TIMEZONE")


class UploadSettings(_Group):
    """uploads/: resumable attachments (tus), what they may be, and where their bytes live
    (`SUPERAPP_UPLOADS_*`). The bytes never enter the database: `backend` local keeps them under `dir`
    (default `<SUPERAPP_DATA_DIR>/uploads`), `s3` in an S3-compatible bucket (`SUPERAPP_UPLOADS_S3_*`)."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_UPLOADS_", extra="forbid")

    enabled: bool = True
    dir: Path | None = Field(default=None, description="local backend's directory; default <data dir>/uploads")
    max_bytes: int = Field(default=10_000_000, ge=1024, le=2**40, description="largest attachment (Upload-Length)")
    chunk_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576,
                             description="largest PATCH body: one chunk, which the app resends whole on a drop")
    allowed_types: str = Field(default="image/jpeg,image/png,application/pdf,image/heic,image/webp",
                               description="comma-separated media types, detected from content")
    expiry_seconds: int = Field(default=24 * 3600, ge=60, description="an upload unfinished this long is pruned")
    unattached_days: float = Field(default=7.0, gt=0,
                                   description="a completed upload no dossier took is deleted after this")
    max_per_dossier: int = Field(default=20, ge=1, le=100, description="attachments on one filing or supplement")
    backend: str = Field(default="local", pattern=r"^(local|s3)$",
                         description="where the bytes live (core/storage.py): a local directory or an S3 bucket")
    s3_endpoint: str = Field(default="", description="the S3-compatible endpoint, e.g. https://s3.example.vn")
    s3_bucket: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$")
    s3_region: str = "us-east-1"
    s3_access_key: str = ""
    s3_secret_key: SecretStr | None = None
    s3_prefix: str = Field(default="uploads/", pattern=r"^([A-Za-z0-9._-]+/)*$", description="key prefix in the bucket")
    max_open_per_citizen: int = Field(default=20, ge=1, le=1000,
                                      description="unfinished or unattached uploads one citizen may hold")

    @property
    def allowed(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.allowed_types.split(",") if t.strip())


_VERSION_OR_EMPTY = r"^(\d{1,4}\.\d{1,4}\.\d{1,6})?$"


class AppSettings(_Group):
    """core/app_versions.py, api/graphql/app_gate.py: which app versions are served (`SUPERAPP_APP_*`). The
    minimums here are defaults: `superapp apps set-minimum` stores one per platform in the database, which wins
    and takes effect within `policy_cache_seconds` without a deploy. Empty = no minimum on that platform."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_APP_", extra="forbid")

    min_version_android: str = Field(default="", pattern=_VERSION_OR_EMPTY)
    min_version_ios: str = Field(default="", pattern=_VERSION_OR_EMPTY)
    min_version_web: str = Field(default="", pattern=_VERSION_OR_EMPTY)
    store_url_android: str = Field(default="https://play.google.com/store/apps/details?id=vn.gov.dichvucong",
                                   max_length=500)
    store_url_ios: str = Field(default="https://apps.apple.com/vn/app/dichvucong/id0000000000", max_length=500)
    store_url_web: str = Field(default="https://dichvucong.gov.vn/app", max_length=500)
    download_url: str = Field(default="https://dichvucong.gov.vn/app", max_length=500,
                              description="where an app of unknown platform (or without headers) is sent")
    refuse_unknown: bool = Field(default=False, description="refuse requests without the client-awareness headers")
    policy_cache_seconds: float = Field(default=10.0, ge=0, le=3600)
    usage_flush_seconds: float = Field(default=30.0, gt=0, le=3600)
    usage_max_keys: int = Field(default=10_000, ge=10, le=1_000_000,
                                description="distinct (app, version, operation) kept in memory between flushes")


class SigningSettings(_Group):
    """core/server_keys.py: the server's Ed25519 keys for receipts (`SUPERAPP_SIGNING_*`). Each key is
    `kid:seed` (seed: 32 bytes, unpadded base64url; `superapp keys new` prints one), comma-separated. The
    first of `keys` signs; the others, and every `retired_keys` entry (`kid:x`, public only), stay published
    in /.well-known/jwks.json so what they signed still verifies. Rotation: docs/ARCHITECTURE.md, "Receipt
    keys". Outside production an empty `keys` means a development key kept in SUPERAPP_DATA_DIR."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_SIGNING_", extra="forbid")

    keys: SecretStr = Field(default=SecretStr(""), description="kid:seed,... (the first signs)")
    retired_keys: str = Field(default="", description="kid:x,... public keys still published")
    issuer: str = Field(default="superapp", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                        description="the `iss` claim of receipts")
    jwks_max_age: int = Field(default=3600, ge=0, le=86_400, description="Cache-Control max-age of the JWKS")


DEV_PAYMENT_SECRET = "dev-payment-secret"


class PaymentSettings(_Group):
    """core/payments.py, services/payment_gateway.py, services/payment_poller.py: the payment gateway, its
    callbacks and the poller that recovers lost ones (`SUPERAPP_PAYMENT_*`); the sandbox gateway's port."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_PAYMENT_", extra="forbid")

    gateway_url: str = Field(default="", description="the gateway's API; empty: the loopback sandbox outside "
                                                     "production (http://127.0.0.1:<sandbox port>)")
    secret: SecretStr = Field(default=SecretStr(DEV_PAYMENT_SECRET),
                              description="HMAC key of the gateway's signed notifications")
    notify_url: str = Field(default="", description="our callback URL the gateway is given with each order; "
                                                    "empty: the gateway's own configured one")
    timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="one call to the gateway")
    callback_window_seconds: int = Field(default=300, ge=5, le=3600,
                                         description="a notification's timestamp may be this far from our clock")
    deadline_days: int = Field(default=15, ge=1, le=365, description="days to pay after the agency asks")
    poll_interval_seconds: float = Field(default=30.0, gt=0, le=3600, description="the poller's round")
    poll_after_seconds: float = Field(default=60.0, gt=0,
                                      description="a payment pending this long without news is asked about")
    order_timeout_seconds: float = Field(default=900.0, gt=0,
                                         description="an order still unsettled this long is cancelled (EXPIRED)")
    sandbox_port: int = Field(default=8120, ge=1, le=65535, description="the loopback sandbox gateway's port "
                                                                        "(moved by SUPERAPP_SANDBOX_PORT_OFFSET)")


GROUPS: dict[str, type[_Group]] = {"auth": AuthSettings, "graphql": GraphQLSettings, "agencies": AgencySettings,
                                   "sync": SyncSettings, "notifications": NotificationSettings,
                                   "retention": RetentionSettings, "server": ServerSettings, "quota": QuotaSettings,
                                   "uploads": UploadSettings, "apps": AppSettings,
                                   "signing": SigningSettings,
                                   "payments": PaymentSettings}


class Settings(BaseSettings):
    """The server's shared knobs, and one group per package (`settings.sync`, `settings.notifications`, ...),
    so each package is handed only its own. Variable names stay flat (`SUPERAPP_FCM_ENDPOINT`,
    `SUPERAPP_SYNC_PAGE_LIMIT`); the README lists each one (a test keeps the two in step)."""

    model_config = SettingsConfigDict(env_prefix="SUPERAPP_", extra="forbid")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"
    holidays_file: Path | None = None

    auth: AuthSettings = Field(default_factory=AuthSettings)
    graphql: GraphQLSettings = Field(default_factory=GraphQLSettings)
    agencies: AgencySettings = Field(default_factory=AgencySettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)
    apps: AppSettings = Field(default_factory=AppSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    payments: PaymentSettings = Field(default_factory=PaymentSettings)

    @model_validator(mode="after")
    def _resolve_defaults(self) -> Settings:
        """Defaults that depend on the environment or on another group are settled here, once."""
        production = self.env is Environment.PRODUCTION
        auth, graphql, notify = self.auth, self.graphql, self.notifications
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'superapp.db'}"
        if auth.dev_issuer_key_file is None:
            auth.dev_issuer_key_file = self.data_dir / "dev-eid-issuer-key.pem"
        if auth.eid_accept_dev_key is None:
            auth.eid_accept_dev_key = not production
        if graphql.persisted_only is None:
            graphql.persisted_only = production
        if graphql.graphiql is None:
            graphql.graphiql = self.env is Environment.DEVELOPMENT
        if notify.fcm_endpoint is None:
            notify.fcm_endpoint = "" if production else f"http://127.0.0.1:{notify.standin_fcm_port}"
        if notify.sms_gateway_url is None:
            notify.sms_gateway_url = "" if production else f"http://127.0.0.1:{notify.standin_sms_port}/sms"
        if self.uploads.dir is None:
            self.uploads.dir = self.data_dir / "uploads"
        up = self.uploads
        if up.backend == "s3" and not (up.s3_endpoint and up.s3_bucket and up.s3_access_key and up.s3_secret_key):
            raise ValueError("SUPERAPP_UPLOADS_BACKEND=s3 needs SUPERAPP_UPLOADS_S3_ENDPOINT, _S3_BUCKET, "
                             "_S3_ACCESS_KEY and _S3_SECRET_KEY")
        if not self.payments.gateway_url and not production:
            port = self.payments.sandbox_port + self.agencies.sandbox_port_offset
            self.payments.gateway_url = f"http://127.0.0.1:{port}"
        if self.server.log_format is None:
            self.server.log_format = LogFormat.JSON if production else LogFormat.TEXT
        if production and not (auth.eid_public_key_file or auth.eid_jwks_file):
            raise ValueError(
                "production needs the e-ID provider's key: set SUPERAPP_EID_PUBLIC_KEY_FILE "
                "or SUPERAPP_EID_JWKS_FILE"
            )
        if production and not self.signing.keys.get_secret_value().strip():
            raise ValueError("production needs the server's signing key for receipts: set SUPERAPP_SIGNING_KEYS "
                             "(`superapp keys new` prints one)")
        if production and self.payments.gateway_url and self.payments.secret.get_secret_value() == DEV_PAYMENT_SECRET:
            raise ValueError("production with a payment gateway needs its secret: set SUPERAPP_PAYMENT_SECRET")
        if graphql.default_page_size > graphql.max_page_size:
            raise ValueError("SUPERAPP_DEFAULT_PAGE_SIZE must not exceed SUPERAPP_MAX_PAGE_SIZE")
        return self

    def updated(self, **changes: Any) -> Settings:
        """A validated copy with some fields changed: top-level ones by name, a group's as a dict of its
        fields, e.g. `updated(timezone="Asia/Bangkok", sync={"page_limit": 5})`; a wrong name is an error."""
        data: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        for name, value in changes.items():
            group = GROUPS.get(name)
            data[name] = group(**{**getattr(self, name).model_dump(), **value}) if group else value
        return type(self)(**data)

    @classmethod
    def variable_names(cls) -> list[str]:
        """Every `SUPERAPP_*` variable the server reads, for the README's check."""
        names = [f"SUPERAPP_{name.upper()}" for name in cls.model_fields if name not in GROUPS]
        for group in GROUPS.values():
            prefix = group.model_config.get("env_prefix", "SUPERAPP_")
            names.extend(f"{prefix}{name.upper()}" for name in group.model_fields)
        return names

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def dev_key_path(self) -> Path:
        assert self.auth.dev_issuer_key_file is not None  # set by _resolve_defaults
        return self.auth.dev_issuer_key_file
