"""Lead packages: chosen tips about one object, for one country's police, and where they went.

An analyst picks tips (by id) or a consensus line ("shop Rossmann"), names the country and adds
notes; ``build_lead`` freezes that choice under a package id (``LP-20261201-k3f9qa``). The
package is then rendered three ways from one ``LeadPackage``:

    /leads/{id}               a printable HTML report (print CSS; no PDF, see the README)
    /leads/{id}/package.json  the same as JSON, for the receiving unit's tools
    /leads/{id}/package.csv   one row per tip, spreadsheet formula injection neutralised

"sent to <authority> on <date>" is recorded per package, and the object's console page lists
every package with where it went. Built, downloaded and sent are audit rows (``lead_events``)
naming the analyst. Tip text in a package is what the database holds: redacted.

Pure parts (ids, CSV cells, the CSV itself, selections) are unit-tested without I/O; the SQL
is exercised by tests/integration/test_leads.py and benchmarks/bench_leads.py.
"""

from __future__ import annotations

import base64
import csv
import io
import logging
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import Depends, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.photos import MediaStore
from review.api_auth import Analyst
from review.api_context import ReviewContext, api_analyst, check_form, page_analyst
from schemas.tip import Attachment, Evidence, ObjectRef, TipId

log = logging.getLogger(__name__)

Conn = AsyncConnection[Any]
MAX_LEAD_TIPS: Final = 5000
ConsensusKind = Literal["country", "city", "shop", "brand", "product_id"]
_EVIDENCE_KEY: Final[Mapping[str, str]] = {
    "country": "countries",
    "city": "cities",
    "shop": "shops",
    "brand": "brands",
    "product_id": "product_ids",
}
_LEAD_ID_RE: Final = re.compile(r"^LP-\d{8}-[a-z2-7]{6}$")
# A spreadsheet reads a cell starting with one of these as a formula (or DDE command).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
_TIP_IDS: Final = TypeAdapter(tuple[TipId, ...])


class LeadError(ValueError):
    """A package that cannot be built as asked, with a message for the analyst."""


# --- the package -------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Selection(_Frozen):
    """What the analyst chose: tip ids, or every tip naming one consensus value."""

    tip_ids: tuple[TipId, ...] = ()
    kind: ConsensusKind | None = None
    value: str | None = Field(default=None, max_length=200)


class LeadIn(_Frozen):
    """``POST /api/leads``: build a package."""

    object_ref: ObjectRef
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2, e.g. PL")
    selection: Selection
    notes: str = Field(default="", max_length=5000)


class SentIn(_Frozen):
    """``POST /api/leads/{id}/sent``: the package went to an authority on a date."""

    authority: str = Field(min_length=1, max_length=200)
    sent_on: date


class LeadTip(_Frozen):
    tip_id: str
    received_at: datetime
    channel: str
    language: str
    subject: str
    body: str
    score: int
    status: str
    evidence: Evidence
    reasons: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    analyst_notes: tuple[str, ...]
    follow_up_of: str | None = None


class LeadObject(_Frozen):
    object_ref: str
    title: str | None = None
    status: str | None = None
    picture_sha256: str | None = None


class Sending(_Frozen):
    authority: str
    sent_on: date
    recorded_by: str
    recorded_at: datetime


class LeadPackage(_Frozen):
    """Everything a package says; the JSON download is exactly this model."""

    package_id: str
    country: str
    object: LeadObject
    selection: Selection
    notes: str
    created_by: str
    created_at: datetime
    tips: tuple[LeadTip, ...]
    sent: tuple[Sending, ...] = ()


# --- pure helpers ------------------------------------------------------------------------------


def new_lead_id(today: date | None = None) -> str:
    """``LP-<yyyymmdd>-<6 base32>``: sortable by day, short enough to say on the phone."""
    day = (today or datetime.now(UTC).date()).strftime("%Y%m%d")
    suffix = base64.b32encode(secrets.token_bytes(5)).decode().lower()[:6]
    return f"LP-{day}-{suffix}"


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: formula-like starts get a leading apostrophe.

    OWASP's rule for CSV injection: ``=``, ``+``, ``-``, ``@``, tab and carriage return at the
    start of a cell make Excel, LibreOffice and Sheets evaluate it. Tip text is written by the
    public, so every cell is treated, not only the text columns.
    """
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


CSV_COLUMNS: Final = (
    "package_id",
    "country",
    "object_ref",
    "tip_id",
    "received_at",
    "channel",
    "language",
    "score",
    "status",
    "countries",
    "cities",
    "shops",
    "brands",
    "product_ids",
    "urls",
    "subject",
    "body",
    "photos",
    "analyst_notes",
    "follow_up_of",
)


def package_csv(package: LeadPackage) -> str:
    """The package as CSV (UTF-8 with BOM, so spreadsheets read accents right)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for tip in package.tips:
        ev = tip.evidence
        row: Sequence[object] = (
            package.package_id,
            package.country,
            package.object.object_ref,
            tip.tip_id,
            tip.received_at.astimezone(UTC).isoformat(),
            tip.channel,
            tip.language,
            tip.score,
            tip.status,
            "; ".join(ev.countries),
            "; ".join(ev.cities),
            "; ".join(ev.shops),
            "; ".join(ev.brands),
            "; ".join(ev.product_ids),
            " ".join(ev.urls),
            tip.subject,
            tip.body,
            " ".join(a.sha256 for a in tip.attachments),
            " | ".join(tip.analyst_notes),
            tip.follow_up_of or "",
        )
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def parse_tip_ids(text: str) -> tuple[str, ...]:
    """Tip ids typed or pasted by an analyst: separated by spaces, commas or new lines."""
    ids = tuple(dict.fromkeys(p for p in re.split(r"[\s,;]+", text) if p))
    try:
        return _TIP_IDS.validate_python(ids)
    except ValidationError as exc:
        raise LeadError("one of the tip ids is not a tip id") from exc


def check_lead(lead: LeadIn) -> None:
    sel = lead.selection
    if bool(sel.tip_ids) == (sel.kind is not None):
        raise LeadError("choose either tips or one consensus line, not both or neither")
    if sel.kind is not None and not (sel.value and sel.value.strip()):
        raise LeadError("a consensus line needs its value")
    if len(sel.tip_ids) > MAX_LEAD_TIPS:
        raise LeadError(f"a package holds at most {MAX_LEAD_TIPS} tips")


# --- the database ------------------------------------------------------------------------------

_TIPS_OF_IDS: Final = """
SELECT tip_id FROM tips WHERE tip_id = ANY(%s) AND object_ref = %s
"""
_TIPS_OF_VALUE: Final = """
SELECT tip_id FROM tips
WHERE object_ref = %s AND evidence -> %s ? %s
ORDER BY score DESC, received_at, tip_id
LIMIT %s
"""
_INSERT_LEAD: Final = """
INSERT INTO leads (lead_id, object_ref, country, tip_ids, selection, notes, created_by)
VALUES (%s, %s, %s, %s, %s, %s, %s)
"""
_EVENT: Final = """
INSERT INTO lead_events (lead_id, event, analyst, authority, sent_on, detail)
VALUES (%s, %s, %s, %s, %s, %s)
"""
_LEAD: Final = "SELECT * FROM leads WHERE lead_id = %s"
_OBJECT: Final = """
SELECT object_ref, status, picture_sha256,
       coalesce(texts -> 'en' ->> 'title',
                (SELECT v ->> 'title' FROM jsonb_each(texts) e(k, v) LIMIT 1)) AS title
FROM objects WHERE object_ref = %s
"""
_PACKAGE_TIPS: Final = """
SELECT t.tip_id, t.received_at, t.channel, t.language, t.subject, t.body, t.score, t.status,
       t.evidence, t.reasons, t.attachments, t.follow_up_of,
       coalesce(n.notes, '{}') AS notes
FROM unnest(%s::text[]) WITH ORDINALITY AS chosen(tip_id, position)
JOIN tips t ON t.tip_id = chosen.tip_id
LEFT JOIN LATERAL (
    SELECT array_agg(s.analyst || ': ' || s.note ORDER BY s.changed_at) AS notes
    FROM status_changes s WHERE s.tip_id = t.tip_id AND s.note IS NOT NULL
) n ON true
ORDER BY chosen.position
"""
_SENT: Final = """
SELECT authority, sent_on, analyst AS recorded_by, at AS recorded_at
FROM lead_events WHERE lead_id = %s AND event = 'sent' ORDER BY at, id
"""
_OBJECT_LEADS: Final = """
SELECT l.lead_id, l.country, l.created_by, l.created_at, cardinality(l.tip_ids) AS tips,
       coalesce(
           (SELECT json_agg(json_build_object('authority', e.authority, 'sent_on', e.sent_on)
                            ORDER BY e.at)
            FROM lead_events e WHERE e.lead_id = l.lead_id AND e.event = 'sent'),
           '[]') AS sent
FROM leads l WHERE l.object_ref = %s ORDER BY l.created_at DESC LIMIT 200
"""


async def _rows(conn: Conn, sql: str, params: Sequence[Any]) -> list[dict[str, Any]]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(sql, params)
        rows: list[dict[str, Any]] = await cur.fetchall()
        return rows


async def build_lead(conn: Conn, lead: LeadIn, analyst: str) -> str:
    """Freeze the selection as a package; its id. Raises LeadError."""
    check_lead(lead)
    sel = lead.selection
    if sel.kind is not None:
        assert sel.value is not None
        rows = await _rows(
            conn,
            _TIPS_OF_VALUE,
            (lead.object_ref, _EVIDENCE_KEY[sel.kind], sel.value.strip(), MAX_LEAD_TIPS),
        )
        tip_ids = [r["tip_id"] for r in rows]
    else:
        found = {
            r["tip_id"]
            for r in await _rows(conn, _TIPS_OF_IDS, (list(sel.tip_ids), lead.object_ref))
        }
        missing = [t for t in sel.tip_ids if t not in found]
        if missing:
            raise LeadError(
                f"{len(missing)} of the tips are not about object {lead.object_ref} "
                f"(first: {missing[0]})"
            )
        tip_ids = list(sel.tip_ids)
    if not tip_ids:
        raise LeadError("no tip about this object names that value")
    lead_id = new_lead_id()
    async with conn.transaction(), conn.cursor() as cur:
        await cur.execute(
            _INSERT_LEAD,
            (
                lead_id,
                lead.object_ref,
                lead.country,
                tip_ids,
                sel.model_dump_json(),
                lead.notes.strip(),
                analyst,
            ),
        )
        await cur.execute(_EVENT, (lead_id, "created", analyst, None, None, f"{len(tip_ids)}"))
    log.info("analyst %s built lead %s (%d tips)", analyst, lead_id, len(tip_ids))
    return lead_id


async def load_package(conn: Conn, lead_id: str) -> LeadPackage | None:
    if not _LEAD_ID_RE.fullmatch(lead_id):
        return None
    found = await _rows(conn, _LEAD, (lead_id,))
    if not found:
        return None
    lead = found[0]
    obj = await _rows(conn, _OBJECT, (lead["object_ref"],))
    tips = await _rows(conn, _PACKAGE_TIPS, (lead["tip_ids"],))
    sent = await _rows(conn, _SENT, (lead_id,))
    return LeadPackage(
        package_id=lead_id,
        country=lead["country"],
        object=LeadObject(**obj[0]) if obj else LeadObject(object_ref=lead["object_ref"]),
        selection=Selection.model_validate(lead["selection"]),
        notes=lead["notes"],
        created_by=lead["created_by"],
        created_at=lead["created_at"],
        tips=tuple(
            LeadTip(
                tip_id=t["tip_id"],
                received_at=t["received_at"],
                channel=t["channel"],
                language=t["language"],
                subject=t["subject"],
                body=t["body"],
                score=t["score"],
                status=t["status"],
                evidence=Evidence.model_validate(t["evidence"]),
                reasons=tuple(str(r.get("text", "")) for r in t["reasons"]),
                attachments=tuple(Attachment.model_validate(a) for a in t["attachments"]),
                analyst_notes=tuple(t["notes"]),
                follow_up_of=t["follow_up_of"],
            )
            for t in tips
        ),
        sent=tuple(Sending(**s) for s in sent),
    )


async def record_event(
    conn: Conn,
    lead_id: str,
    event: Literal["downloaded", "sent"],
    analyst: str,
    *,
    sent: SentIn | None = None,
    detail: str | None = None,
) -> None:
    await conn.execute(
        _EVENT,
        (
            lead_id,
            event,
            analyst,
            sent.authority.strip() if sent else None,
            sent.sent_on if sent else None,
            detail,
        ),
    )


async def leads_for_object(conn: Conn, object_ref: str) -> list[dict[str, Any]]:
    """The object's packages, newest first, each with where and when it was sent."""
    return await _rows(conn, _OBJECT_LEADS, (object_ref,))


# --- HTTP --------------------------------------------------------------------------------------


def form_checked(request: Request, analyst: Analyst, csrf: str) -> None:
    """The console's one rule for browser forms (review.api_context.check_form)."""
    check_form(request, analyst, csrf)


def _disposition(lead_id: str, ext: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{lead_id}.{ext}"'}


class LeadPages:
    """Handlers for packages, as pages and as JSON; ``review.api`` wires them to routes."""

    def __init__(self, review: ReviewContext) -> None:
        self.review = review

    async def _package(self, conn: Conn, lead_id: str) -> LeadPackage:
        package = await load_package(conn, lead_id)
        if package is None:
            raise StarletteHTTPException(404, "There is no lead package with this id.")
        return package

    async def _build(self, lead: LeadIn, analyst: Analyst) -> str:
        async with self.review.connection() as conn:
            try:
                return await build_lead(conn, lead, analyst.name)
            except LeadError as exc:
                raise StarletteHTTPException(422, str(exc)) from exc

    # pages

    async def build_form(
        self,
        *,
        request: Request,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        object_ref: Annotated[str, Form(max_length=64)],
        country: Annotated[str, Form(max_length=2)],
        csrf: Annotated[str, Form(max_length=64)] = "",
        tip_ids: Annotated[str, Form(max_length=200_000)] = "",
        consensus: Annotated[str, Form(max_length=260)] = "",
        notes: Annotated[str, Form(max_length=5000)] = "",
    ) -> Response:
        form_checked(request, analyst, csrf)
        kind, _, value = consensus.partition(":")
        try:
            selection = (
                Selection(kind=kind, value=value)
                if consensus
                else Selection(tip_ids=parse_tip_ids(tip_ids))
            )
            lead = LeadIn(
                object_ref=object_ref,
                country=country.strip().upper(),
                selection=selection,
                notes=notes,
            )
        except (ValidationError, LeadError) as exc:
            message = str(exc) if isinstance(exc, LeadError) else "Check the country and choice."
            raise StarletteHTTPException(422, message) from exc
        lead_id = await self._build(lead, analyst)
        return RedirectResponse(f"/leads/{lead_id}", 303)

    async def object_picture(
        self, object_ref: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> Response:
        """The object's own picture (``/media`` serves only images that tips name)."""
        async with self.review.connection() as conn:
            found = await _rows(
                conn,
                "SELECT picture_sha256, picture_media_type FROM objects WHERE object_ref = %s",
                (object_ref,),
            )
        if not found or found[0]["picture_sha256"] is None:
            raise StarletteHTTPException(404, "no such image")
        settings = self.review.settings
        path = MediaStore(settings.web_media_dir or settings.data_dir / "media").path_for(
            found[0]["picture_sha256"]
        )
        if not path.is_file():
            raise StarletteHTTPException(404, "no such image")
        return FileResponse(path, media_type=found[0]["picture_media_type"] or "image/jpeg")

    async def report(
        self, lead_id: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> HTMLResponse:
        async with self.review.connection() as conn:
            package = await self._package(conn, lead_id)
        return self.review.render(
            "lead.html", analyst, package=package, today=datetime.now(UTC).date().isoformat()
        )

    async def download_json(
        self, lead_id: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> Response:
        async with self.review.connection() as conn:
            package = await self._package(conn, lead_id)
            await record_event(conn, lead_id, "downloaded", analyst.name, detail="json")
        log.info("analyst %s downloaded lead %s (json)", analyst.name, lead_id)
        return Response(
            package.model_dump_json(indent=1),
            media_type="application/json",
            headers=_disposition(lead_id, "json"),
        )

    async def download_csv(
        self, lead_id: str, analyst: Annotated[Analyst, Depends(page_analyst)]
    ) -> Response:
        async with self.review.connection() as conn:
            package = await self._package(conn, lead_id)
            await record_event(conn, lead_id, "downloaded", analyst.name, detail="csv")
        log.info("analyst %s downloaded lead %s (csv)", analyst.name, lead_id)
        return Response(
            package_csv(package),
            media_type="text/csv; charset=utf-8",
            headers=_disposition(lead_id, "csv"),
        )

    async def sent_form(
        self,
        *,
        request: Request,
        lead_id: str,
        analyst: Annotated[Analyst, Depends(page_analyst)],
        authority: Annotated[str, Form(max_length=200)],
        sent_on: Annotated[date, Form()],
        csrf: Annotated[str, Form(max_length=64)] = "",
    ) -> Response:
        form_checked(request, analyst, csrf)
        await self._sent(lead_id, analyst, authority, sent_on)
        return RedirectResponse(f"/leads/{lead_id}", 303)

    async def _sent(self, lead_id: str, analyst: Analyst, authority: str, sent_on: date) -> None:
        try:
            sent = SentIn(authority=authority.strip(), sent_on=sent_on)
        except ValidationError as exc:
            raise StarletteHTTPException(422, "Name the authority.") from exc
        async with self.review.connection() as conn:
            await self._package(conn, lead_id)
            await record_event(conn, lead_id, "sent", analyst.name, sent=sent)
        log.info("analyst %s recorded lead %s as sent", analyst.name, lead_id)

    # JSON API

    async def api_build(
        self, lead: LeadIn, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> JSONResponse:
        lead_id = await self._build(lead, analyst)
        return JSONResponse({"package_id": lead_id}, 201)

    async def api_package(
        self, lead_id: str, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> LeadPackage:
        async with self.review.connection() as conn:
            package = await self._package(conn, lead_id)
            await record_event(conn, lead_id, "downloaded", analyst.name, detail="api")
        return package

    async def api_sent(
        self, lead_id: str, sent: SentIn, analyst: Annotated[Analyst, Depends(api_analyst)]
    ) -> Response:
        await self._sent(lead_id, analyst, sent.authority, sent.sent_on)
        return Response(status_code=204)


def consensus_choices(items: Iterable[Any]) -> list[tuple[str, str]]:
    """``(form value, label)`` per consensus line for the build form: ``shop:Rossmann``."""
    # A lead is built from text evidence; a photo group is seen on the page, not packaged by kind.
    return [
        (f"{i.kind}:{i.value}", f"{i.kind} {i.value} ({i.tipsters} tipsters)")
        for i in items
        if i.kind in _EVIDENCE_KEY
    ]
