"""The one settings object, read from ``TIPLINE_*`` variables once at the entry point."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob tipline has. Built once by the CLI and passed down; never read from os.environ."""

    model_config = SettingsConfigDict(env_prefix="TIPLINE_", frozen=True, extra="ignore")

    # --- services: unset means "start the embedded one" ---
    kafka: str | None = Field(
        default=None, description="Kafka bootstrap servers, e.g. 'broker1:9092,broker2:9092'."
    )
    database_url: SecretStr | None = Field(
        default=None, description="PostgreSQL URL of the reviewer database."
    )
    data_dir: Path = Field(
        default=Path(".tipline"), description="Embedded services' data, keys and media."
    )
    embedded_kafka_port: int = Field(default=19092, description="Port of the embedded broker.")

    # --- topics ---
    topic_prefix: str = Field(default="", description="Prefix for every topic (isolates tests).")
    partitions: int = Field(default=6, ge=1, description="Partitions per topic when creating.")
    replication_factor: int = Field(default=1, ge=1, description="Replicas per topic.")

    raw_retention_hours: float = Field(
        default=6.0,
        gt=0,
        description="Hours the raw topic keeps a tip (it still carries channel metadata); "
        "applied by `tipline topics` on Apache Kafka.",
    )

    # --- Kafka and PostgreSQL security (production; see README "Production") ---
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How clients talk to Kafka: TLS (SSL) and/or SASL."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        default="SCRAM-SHA-512", description="SASL mechanism when the protocol is SASL_*."
    )
    kafka_sasl_username: str | None = Field(default=None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="SASL password.")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle that signed the brokers' certificates (PEM)."
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="Client certificate (PEM) for brokers that ask for one."
    )
    kafka_ssl_keyfile: Path | None = Field(default=None, description="Client key (PEM).")
    database_ssl_mode: (
        Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] | None
    ) = Field(
        default=None,
        description="libpq sslmode for PostgreSQL (unset: whatever the URL says); "
        "verify-full in production.",
    )
    database_ssl_root_cert: Path | None = Field(
        default=None, description="CA bundle that signed the PostgreSQL server certificate."
    )

    # --- workers ---
    app_id: str = Field(default="tipline", description="Faust app id = consumer-group prefix.")
    workers: int = Field(default=1, ge=1, description="Worker processes `tipline run` starts.")
    commit_interval: float = Field(
        default=1.0, gt=0, description="Seconds between offset commits (the replay window)."
    )
    session_timeout: float = Field(
        default=6.0, gt=0, description="Consumer session timeout in seconds."
    )
    heartbeat_interval: float = Field(default=1.0, gt=0, description="Heartbeat in seconds.")
    sink_batch_size: int = Field(default=500, ge=1, description="Rows per database transaction.")
    sink_batch_seconds: float = Field(
        default=0.5, gt=0, description="Longest wait to fill a sink batch."
    )
    stream_batch_size: int = Field(
        default=200, ge=1, description="Records per batch in the clean and triage stages."
    )
    stream_batch_seconds: float = Field(
        default=0.02, gt=0, description="Longest wait to fill a clean or triage batch."
    )
    fetch_max_wait_ms: int = Field(
        default=20,
        ge=1,
        description="Longest a consumer fetch waits for data (faust fixes 1,500 ms; the "
        "embedded broker sleeps part of it even when data is there).",
    )
    dlq_max_invalid_ratio: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="Share of invalid records (after 200) above which a stage stops instead "
        "of dead-lettering.",
    )
    dlq_max_consecutive: int = Field(
        default=1000, ge=1, description="Invalid records in a row after which a stage stops."
    )
    passthrough: bool = Field(
        default=False,
        description="Identity stages (no cleaning, no triage): the benchmark's baseline only.",
    )
    gc_freeze: bool = Field(
        default=True,
        description="Move start-up objects out of the garbage collector's reach after warm-up.",
    )
    gc_gen0_threshold: int = Field(
        default=50_000,
        ge=0,
        description="Allocations between young garbage collections in the worker (0: Python's "
        "700). Per tip most objects die by reference count; fewer, larger collections cost "
        "less (benchmarks/bench_worker_state.py).",
    )
    log_level: str = Field(default="info", description="crit | error | warn | info | debug.")
    metrics_interval: float = Field(
        default=60.0, gt=0, description="Seconds between a worker's metrics log lines."
    )
    run_with: tuple[str, ...] = Field(
        default=("web", "smtp", "review"),
        description="Services `tipline run` starts beside the workers, as a JSON list: "
        "web, smtp, imap, mastodon, review.",
    )

    # --- operations (tipline/health.py, supervisor.py, logs.py, deadletters.py) ---
    ops_host: str = Field(
        default="127.0.0.1", description="Address of /metrics, /healthz, /readyz (worker, pollers)."
    )
    ops_port: int = Field(
        default=9400,
        ge=0,
        description="Port of a worker's or poller's /metrics, /healthz, /readyz; `tipline run` "
        "gives its children this port and the ones after it; 0: any free port (logged).",
    )
    stop_drain_seconds: float = Field(
        default=10.0,
        ge=0,
        description="At stop, longest wait for workers to store what is in flight; the rest "
        "is spilled to data_dir/spill and re-sent at the next start (embedded broker).",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="Log lines as text or as one JSON object each."
    )
    dead_letter_retention_days: float = Field(
        default=30.0, gt=0, description="Days a dead letter is kept (embedded spill; topic)."
    )

    # --- privacy ---
    sender_key_secret: SecretStr | None = Field(
        default=None,
        description="HMAC key for sender keys; generated under data_dir when unset.",
    )
    contact_public_key: str | None = Field(
        default=None,
        description="Investigators' public key (`tipline contact-keys`) sealing contact details "
        "tipsters agree to give; unset: no contact details are asked for or kept.",
    )
    sender_key_id: str = Field(
        default="k1", description="Id of the current sender-key secret (rotate: new id + secret)."
    )

    # --- e-mail intake (ingest/email.py, ingest/imap.py) ---
    smtp_host: str = Field(default="127.0.0.1", description="Address the SMTP/LMTP receiver binds.")
    smtp_port: int = Field(default=2525, description="Port of the SMTP/LMTP receiver.")
    smtp_lmtp: bool = Field(
        default=False, description="Speak LMTP (behind an MTA) instead of SMTP."
    )
    tips_addresses: tuple[str, ...] = Field(
        default=("tips@localhost",),
        description="Accepted recipients; 'tips+<object_ref>@…' is accepted for each of them.",
    )
    email_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, description="Largest message (SMTP SIZE, 552 above)."
    )
    email_receipt_reply: bool = Field(
        default=False,
        description="Answer each e-mail tip (SMTP receiver and IMAP poller) with its follow-up "
        "code. Off by default: replies to forged senders are backscatter. The address is "
        "used once, in memory, and never stored or logged.",
    )
    email_reply_smtp: str = Field(
        default="127.0.0.1:25", description="host:port of the relay that sends receipt replies."
    )
    email_reply_from: str | None = Field(
        default=None,
        description="From address of receipt replies (default: the first tips address).",
    )
    web_public_url: str | None = Field(
        default=None,
        description="The public site's address, e.g. https://trace.example.org, for links in "
        "receipt replies.",
    )
    imap_host: str | None = Field(default=None, description="IMAP server of a hosted mailbox.")
    imap_port: int = Field(default=993, description="IMAP port (993 with TLS, 143 without).")
    imap_ssl: bool = Field(default=True, description="Use IMAP over TLS.")
    imap_user: str | None = Field(default=None, description="IMAP login name.")
    imap_password: SecretStr | None = Field(default=None, description="IMAP password.")
    imap_mailbox: str = Field(default="INBOX", description="Mailbox polled for unseen tips.")
    imap_done_mailbox: str | None = Field(
        default=None, description="Move accepted mail here (unset: only mark it seen)."
    )
    imap_reject_mailbox: str | None = Field(
        default=None, description="Move refused mail here (unset: mark it seen and flagged)."
    )
    imap_poll_seconds: float = Field(default=60.0, gt=0, description="Seconds between IMAP polls.")

    # --- social intake (ingest/social.py, ingest/webhook.py) ---
    mastodon_url: str | None = Field(
        default=None, description="Base URL of the project's instance."
    )
    mastodon_token: SecretStr | None = Field(default=None, description="Access token (read scope).")
    mastodon_account: str | None = Field(
        default=None,
        description="The project's acct, e.g. 'tipline' (its leading @mention is cut).",
    )
    mastodon_cursor_file: Path | None = Field(
        default=None, description="Polling cursor file (default: data_dir/mastodon.cursor)."
    )
    mastodon_poll_seconds: float = Field(default=60.0, gt=0, description="Seconds between polls.")
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict, description="Per-source HMAC secrets for POST /hooks/{source}."
    )

    # --- web intake (ingest/web.py) ---
    web_host: str = Field(default="127.0.0.1", description="Address the web intake binds.")
    web_port: int = Field(default=8080, description="Port of the web intake.")
    web_catalogue: Path | None = Field(
        default=None,
        description="JSON of published objects {id: {lang: {title, description}}}; unset: any id.",
    )
    web_catalogue_ttl: float = Field(
        default=10.0,
        gt=0,
        description="Seconds the web intake keeps the objects table in memory before rereading.",
    )
    web_media_dir: Path | None = Field(
        default=None, description="Sanitised photos, content-addressed (default: data_dir/media)."
    )
    web_api_keys: dict[str, SecretStr] = Field(
        default_factory=dict, description="Partner name -> API key for POST /api/tips."
    )
    web_source_rate: float = Field(
        default=0.05, gt=0, description="Form tips per second per client address (sustained)."
    )
    web_source_burst: int = Field(default=5, ge=1, description="Form tips per address at once.")
    web_partner_rate: float = Field(
        default=50.0, gt=0, description="API tips per second per partner (sustained)."
    )
    web_partner_burst: int = Field(default=200, ge=1, description="API tips per partner at once.")
    web_global_rate: float = Field(
        default=2000.0, gt=0, description="Tips per second over all sources (sustained)."
    )
    web_global_burst: int = Field(default=2000, ge=1, description="Tips over all sources at once.")
    web_secure_cookies: bool = Field(
        default=True,
        description="Mark the CSRF cookie Secure and send HSTS (off only for plain HTTP).",
    )
    web_form_tipster_hours: float = Field(
        default=24.0,
        gt=0,
        description="Period of the form's per-session tipster pseudonym (rotates, never stored).",
    )
    web_forwarded_allow_ips: str | None = Field(
        default=None,
        description="Reverse proxies trusted for X-Forwarded-For (rate-limit source); unset: none.",
    )

    # --- dedupe: near-duplicate threshold and per-worker memory caps (see processors/dedupe.py) ---
    dedupe_threshold: float = Field(
        default=0.85, gt=0, le=1, description="Similarity (0-1) at which two tips are one guess."
    )
    dedupe_max_objects: int = Field(default=1000, ge=1, description="Objects held per worker.")
    dedupe_max_indexed_tips: int = Field(
        default=50_000, ge=8, description="Near-duplicate signatures kept per object."
    )
    dedupe_max_exact_keys: int = Field(
        default=200_000, ge=1, description="Exact-duplicate keys kept per object."
    )
    dedupe_max_senders: int = Field(
        default=1000, ge=1, description="Senders remembered per cluster and evidence item."
    )

    # --- scoring (processors/evidence.py, score.py, activity.py) ---
    score_lexicon_path: Path | None = Field(
        default=None,
        description="Shop/brand lexicon TOML (unset: the packaged processors/data/lexicon.toml).",
    )
    sender_activity_window_seconds: float = Field(
        default=3600.0, gt=0, description="Window in which one sender's tips are counted."
    )
    sender_activity_burst: int = Field(
        default=5, ge=1, description="Tips per window from one sender before the score drops."
    )
    sender_activity_max_senders: int = Field(
        default=100_000, ge=1, description="Sender keys remembered per worker (LRU beyond)."
    )
    sender_activity_max_events: int = Field(
        default=200, ge=1, description="Tips remembered per sender key."
    )

    # --- analyst review (review/api.py): queue, tip pages, consensus and ops ---
    review_host: str = Field(default="127.0.0.1", description="Address the review app binds.")
    review_port: int = Field(default=8090, description="Port of the review app.")
    review_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Analyst name -> access token for scripts (Bearer); 16+ characters each.",
    )
    review_session_hours: float = Field(
        default=10.0, gt=0, le=168, description="Hours a login lasts before it is asked again."
    )
    review_secure_cookies: bool = Field(
        default=True,
        description="Mark the session cookie Secure and send HSTS (off only for plain HTTP).",
    )
    review_login_burst: int = Field(
        default=5, ge=1, description="Failed sign-ins per analyst name before they are slowed."
    )
    review_login_per_minute: float = Field(
        default=2.0, gt=0, description="Sign-in attempts per name and minute once slowed."
    )
    review_failures_burst: int = Field(
        default=30, ge=1, description="Failed credential checks (all names, tokens) at once."
    )
    review_failures_per_second: float = Field(
        default=1.0, gt=0, description="Failed credential checks per second once slowed."
    )
    review_claim_minutes: float = Field(
        default=20.0, gt=0, le=480, description="Minutes a claimed cluster stays one analyst's."
    )
    review_db_timeout: float = Field(
        default=5.0, gt=0, description="Seconds the review app waits for the database (then 503)."
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
