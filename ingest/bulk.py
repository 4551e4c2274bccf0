"""Bulk import of a partner's export (JSONL or CSV) for ``tipline import``.

Contract:

    import_file(path, sink, *, rejects_path, progress=True, source="") -> ImportSummary
        Reads ``path`` (.jsonl/.ndjson/.json as JSON Lines, .csv as CSV with a header row,
        UTF-8 with or without BOM). Fields: ``id``, ``text`` or ``body``, ``subject``,
        ``object_ref``, ``received_at`` (ISO 8601 with a time zone; absent = now), ``channel``
        (the partner's channel, kept in channel_meta), ``sender`` (optional, becomes the
        keyed sender key downstream); other columns are ignored, since they may hold anything.
        Each good row becomes a RawTip on the ``import`` channel with tip id ``i-`` + the row's
        id (``i-<source>-<id>`` when ``source`` is given, so two partners' id 1 differ), or a
        content hash when there is no id: re-importing a file is idempotent downstream.
        Each bad row goes to ``rejects_path`` (JSON Lines: line, reason, row) and is counted;
        logs carry line numbers and reasons, never row content. A body over 20,000 characters
        is rejected, not cut: the operator can fix the file.
        A sink failure (TransientError) stops the import and propagates; rows before it were
        accepted, and running the same import again is safe.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final, Protocol, runtime_checkable

from pydantic import ValidationError
from tqdm import tqdm

from ingest.producer import TipSink
from ingest.tip_ids import TipIds
from schemas.tip import RawTip
from tipline.core.errors import InvalidInputError

log = logging.getLogger(__name__)

BATCH: Final = 500
_SAFE_ID: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,100}$")
_FIELD_LIMIT: Final = 1024 * 1024  # one CSV field; the body limit is far lower anyway
csv.field_size_limit(max(csv.field_size_limit(), _FIELD_LIMIT))


@runtime_checkable
class BatchSink(Protocol):
    """A sink that can pipeline many tips and wait once (TipProducer.submit_many)."""

    def submit_many(self, tips: list[RawTip]) -> int: ...


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    rows: int
    accepted: int
    rejected: int
    rejects_path: Path | None

    def __str__(self) -> str:
        where = f" (see {self.rejects_path})" if self.rejected and self.rejects_path else ""
        return f"{self.rows} rows: {self.accepted} accepted, {self.rejected} rejected{where}"


class _RowError(Exception):
    """A row-level refusal carrying a reason safe to log."""


def _text(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise _RowError(f"field {key!r} must be a string")
    text = str(value)
    return text if text.strip() else None


def row_tip_id(row: dict[str, Any], body: str, source: str, ids: TipIds) -> str:
    """``i-[source-]`` + a keyed hash of the row's id, else of its content: a re-imported row
    keeps its id, and the exporting system's row id does not lead to the tip."""
    prefix = f"i-{source}-" if source else "i-"
    row_id = _text(row, "id")
    if row_id is not None:
        row_id = row_id.strip()
        return ids.derive(prefix + "h", "import-id", source, row_id)
    content = "\x00".join(
        [body, _text(row, "subject") or "", _text(row, "object_ref") or "", source]
    )
    return ids.derive(prefix + "c", "import-content", content)


def row_to_tip(
    row: dict[str, Any], *, ids: TipIds, source: str = "", now: datetime | None = None
) -> RawTip:
    """Translate one row; raises InvalidInputError with a reason that never quotes the row."""
    try:
        body = _text(row, "text") or _text(row, "body")
        if body is None:
            raise _RowError("no text (neither 'text' nor 'body')")
        received_raw = _text(row, "received_at")
        received_at = now or datetime.now(UTC)
        if received_raw is not None:
            try:
                received_at = datetime.fromisoformat(received_raw.strip().replace("Z", "+00:00"))
            except ValueError as exc:
                raise _RowError("received_at is not an ISO 8601 date-time") from exc
            if received_at.tzinfo is None:
                raise _RowError("received_at has no time zone")
        meta: dict[str, str | list[str]] = {"transport": "import"}
        if source:
            meta["source"] = source
        channel = _text(row, "channel")
        if channel is not None:
            meta["source_channel"] = channel[:64]
        sender = _text(row, "sender")
        if sender is not None:
            meta["sender"] = f"{source}:{sender}" if source else sender
        tip_id = row_tip_id(row, body, source, ids)
        object_ref = _text(row, "object_ref")
        return RawTip(
            tip_id=tip_id,
            channel="import",
            received_at=received_at,
            object_ref=object_ref.strip() if object_ref else None,
            subject=" ".join((_text(row, "subject") or "").split()),
            body=body,
            channel_meta=meta,
        )
    except _RowError as exc:
        raise InvalidInputError(str(exc)) from exc
    except ValidationError as exc:
        fields = ", ".join(
            f"{'.'.join(map(str, e['loc'])) or 'row'} ({e['type']})" for e in exc.errors()
        )
        raise InvalidInputError(f"invalid fields: {fields}") from exc


class _Counting(io.RawIOBase):
    """A binary reader that advances a progress bar by the bytes it hands on."""

    def __init__(self, raw: IO[bytes], bar: tqdm[Any] | None) -> None:
        self._raw = raw
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        if self._bar is not None:
            self._bar.update(len(data))
        return len(data)


def _jsonl_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row or reason) per non-blank line."""
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            yield number, "line is not valid JSON"
            continue
        yield number, row if isinstance(row, dict) else "line is not a JSON object"


def _csv_rows(text: IO[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    reader = csv.reader(text)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error:
        yield 1, "header row is not valid CSV"
        return
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            # The reader resynchronises on the next line; the broken record is reported.
            yield reader.line_num, f"not valid CSV ({type(exc).__name__})"
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield reader.line_num, f"{len(values)} fields, header has {len(header)}"
            continue
        yield reader.line_num, dict(zip(header, values, strict=True))


def _reader(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix in {".jsonl", ".ndjson", ".json"}:
        return _jsonl_rows
    if suffix == ".csv":
        return _csv_rows
    raise InvalidInputError(f"unknown import format {suffix!r}: use .jsonl or .csv")


def import_file(
    path: Path,
    sink: TipSink,
    *,
    rejects_path: Path,
    ids: TipIds,
    progress: bool = True,
    source: str = "",
) -> ImportSummary:
    """Import every row of ``path`` (see the module contract)."""
    rows_of = _reader(path)
    if source and not _SAFE_ID.fullmatch(source):
        raise InvalidInputError("source must be a short id of letters, digits and . _ : -")
    rows = accepted = rejected = 0
    batch: list[RawTip] = []

    def flush() -> None:
        nonlocal accepted
        if not batch:
            return
        if isinstance(sink, BatchSink):
            sink.submit_many(list(batch))
        else:
            for tip in batch:
                sink.submit(tip)
        accepted += len(batch)
        batch.clear()

    bar = (
        tqdm(total=path.stat().st_size, unit="B", unit_scale=True, desc=path.name, file=sys.stderr)
        if progress
        else None
    )
    rejects_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            path.open("rb") as raw,
            io.TextIOWrapper(
                io.BufferedReader(_Counting(raw, bar)),
                encoding="utf-8-sig",
                errors="strict",
                newline="",
            ) as text,
            rejects_path.open("w", encoding="utf-8") as rejects,
        ):
            for number, row in _safe_rows(rows_of, text):
                rows += 1
                if isinstance(row, str):
                    reason, original = row, None
                else:
                    try:
                        batch.append(row_to_tip(row, ids=ids, source=source))
                        if len(batch) >= BATCH:
                            flush()
                        continue
                    except InvalidInputError as exc:
                        reason, original = exc.reason, row
                rejected += 1
                log.info("import %s line %d rejected: %s", path.name, number, reason)
                record = {"line": number, "reason": reason, "row": original}
                rejects.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            flush()
    finally:
        if bar is not None:
            bar.close()
    summary = ImportSummary(rows, accepted, rejected, rejects_path)
    log.info("import %s: %s", path.name, summary)
    return summary


def _safe_rows(rows_of: Any, text: IO[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Rows, with undecodable bytes reported once instead of ending the import silently."""
    try:
        yield from rows_of(text)
    except UnicodeDecodeError:
        yield -1, "file is not UTF-8 from here on; the rest was not read"
