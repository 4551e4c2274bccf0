"""The tip form per object: its page, its submission (CSRF and Origin checked), HTML errors."""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartParser

from ingest.followup import issue_receipt
from ingest.i18n import LANGUAGES, direction, load_catalogues, negotiate
from ingest.photos import DEFAULT_MAX_BYTES, sniff_format
from ingest.ratelimit import retry_after_header
from ingest.tip_ids import TipIds
from ingest.web_catalogue import ObjectCatalogue
from ingest.web_handoff import Handoff
from ingest.web_limits import FORM_BODY_LIMIT, MAX_CONTACT_CHARS, RateLimits
from schemas.tip import MAX_BODY_CHARS, Attachment, RawTip
from tipline.core.errors import RejectedContentError
from tipline.core.http import Origin, origin_of
from tipline.core.settings import Settings

log = logging.getLogger(__name__)

TEMPLATES_DIR: Final = Path(__file__).parent / "templates"
_CSRF_RE: Final = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SUBMISSION_RE: Final = re.compile(r"^[A-Za-z0-9_-]{22}$")
# The text part may hold MAX_BODY_CHARS characters of four UTF-8 bytes each (plus slack for
# the browser's CRLF normalisation): a smaller part limit told such tipsters "form expired".
FORM_PART_LIMIT: Final = MAX_BODY_CHARS * 4 + 8 * 1024

# Uploads above this size would be spooled to a temporary file by Starlette: raise it above the
# body limit so original photo bytes stay in memory and never touch a disk.
MultiPartParser.spool_max_size = FORM_BODY_LIMIT + 1


def new_tip_id() -> str:
    """A random, unguessable web tip id: 128 bits in lower-case base32, e.g. ``w-k3…``."""
    return "w-" + base64.b32encode(secrets.token_bytes(16)).decode().rstrip("=").lower()


@dataclass(frozen=True)
class _FormTip:
    """What a valid form submission carries, before it becomes a RawTip."""

    text: str
    meta: dict[str, str | list[str]]
    attachments: tuple[Attachment, ...]
    sealed_contact: str | None = None


class FormPages:
    """The object page with its form, the form's target, and the HTML pages for errors."""

    def __init__(
        self,
        settings: Settings,
        catalogue: ObjectCatalogue,
        limits: RateLimits,
        handoff: Handoff,
        ids: TipIds,
        *,
        follow_up: bool = False,
    ) -> None:
        self.ids = ids
        self.settings = settings
        # Receipts with a follow-up code only where the follow-up page can read them back.
        self.follow_up = follow_up
        self.catalogue = catalogue
        self.limits = limits
        self.handoff = handoff
        self.messages = load_catalogues()
        # __Host- pins the cookie to this exact origin, but browsers allow it only with Secure.
        self.csrf_cookie = "__Host-csrf" if settings.web_secure_cookies else "csrf"
        self.templates = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            autoescape=select_autoescape(default=True, default_for_string=True),
            auto_reload=False,
        )

    # --- rendering ---

    def render(
        self,
        name: str,
        lang: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        **ctx: Any,
    ) -> HTMLResponse:
        html = self.templates.get_template(name).render(
            lang=lang, dir=direction(lang), t=self.messages[lang], languages=LANGUAGES, **ctx
        )
        response = HTMLResponse(html, status_code=status, headers=dict(headers or {}))
        response.headers["content-language"] = lang
        response.headers["vary"] = "Accept-Language"
        return response

    def error_page(
        self, lang: str, status: int, message_id: str, *, back: bool = True, retry_after: float = 0
    ) -> HTMLResponse:
        t = self.messages[lang]
        headers = {"retry-after": retry_after_header(retry_after)} if retry_after else None
        heading = t["not_found_title"] if status == 404 else t["error_title"]
        return self.render(
            "error.html", lang, status, headers, heading=heading, message=t[message_id], back=back
        )

    # --- what every form page shares (the follow-up pages too) ---

    def lang_and_token(self, request: Request) -> tuple[str, str]:
        """The page's language and its CSRF token (the cookie's, or a fresh one)."""
        token = request.cookies.get(self.csrf_cookie, "")
        if not _CSRF_RE.fullmatch(token):
            token = secrets.token_urlsafe(32)
        return page_lang(request), token

    def with_csrf(self, response: HTMLResponse, token: str) -> HTMLResponse:
        # A session cookie that only proves the form came from this page (double submit).
        response.set_cookie(
            self.csrf_cookie,
            token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=self.settings.web_secure_cookies,
        )
        return response

    def csrf_matches(self, request: Request, token: object) -> bool:
        cookie = request.cookies.get(self.csrf_cookie, "")
        return (
            isinstance(token, str)
            and _CSRF_RE.fullmatch(cookie) is not None
            and hmac.compare_digest(cookie, token)
        )

    async def refuse_post(self, request: Request, lang: str) -> HTMLResponse | None:
        """The error page for a POST from another site or over the rate limit, else None."""
        if not _same_origin(request):
            log.info("form refused: foreign origin")
            return self.error_page(lang, 403, "error_csrf")
        # Cheapest refusal first: before the body is even read.
        wait = self.limits.form(request)
        if wait:
            log.info("form refused: rate limit")
            return self.error_page(lang, 429, "error_rate", retry_after=wait)
        return None

    # --- handlers ---

    async def object_page(self, request: Request, object_ref: str) -> HTMLResponse:
        lang, token = self.lang_and_token(request)
        await self.catalogue.refresh()
        page = self.catalogue.page(object_ref, lang, self.messages[lang]["object_generic_title"])
        if page is None:
            return self.error_page(lang, 404, "not_found_text", back=False)
        response = self.render(
            "object.html",
            lang,
            show_languages=True,
            object_ref=object_ref,
            title=page.title,
            description=page.description,
            questions=page.questions,
            # Object texts in another language (none in the visitor's) are marked as such,
            # for screen readers, hyphenation and fonts.
            object_lang=page.lang,
            object_dir=direction(page.lang) if page.lang else None,
            picture=page.picture,
            closed=page.closed,
            csrf=token,
            submission=secrets.token_urlsafe(16),
            max_chars=MAX_BODY_CHARS,
            max_contact=MAX_CONTACT_CHARS,
            takes_contact=self.handoff.takes_contact,
        )
        return self.with_csrf(response, token)

    async def object_picture(self, request: Request, object_ref: str) -> Response:
        """The object's sanitised picture, only while its page is public."""
        await self.catalogue.refresh()
        page = self.catalogue.page(object_ref, "en", "{ref}")
        if page is None or page.picture is None:
            return self.error_page(page_lang(request), 404, "not_found_text", back=False)
        path = self.handoff.media.path_for(page.picture)
        if not path.is_file():
            return self.error_page(page_lang(request), 404, "not_found_text", back=False)
        # Sanitised images are content-addressed: the bytes behind a name never change.
        return FileResponse(
            path,
            media_type=_sniff_media_type(path),
            headers={"cache-control": "public, max-age=3600"},
        )

    async def submit_form(self, request: Request, object_ref: str) -> HTMLResponse:
        lang = page_lang(request)
        await self.catalogue.refresh()
        if self.catalogue.page(object_ref, lang, "{ref}") is None:
            return self.error_page(lang, 404, "not_found_text", back=False)
        refused = await self.refuse_post(request, lang)
        if refused is not None:
            return refused
        form = await request.form(max_files=1, max_fields=8, max_part_size=FORM_PART_LIMIT)
        try:
            outcome = await self._read_form(request, form)
        finally:
            await form.close()
        if isinstance(outcome, tuple):
            status, message_id = outcome
            return self.error_page(lang, status, message_id)
        # argon2 takes a CPU-fifth of a second: off the event loop.
        issued = await run_in_threadpool(issue_receipt) if self.follow_up else None
        raw = RawTip(
            tip_id=self._tip_id(form.get("submission")),
            channel="web",
            received_at=datetime.now(UTC),
            object_ref=object_ref,
            body=outcome.text,
            attachments=outcome.attachments,
            sealed_contact=outcome.sealed_contact,
            receipt=issued.stored if issued else None,
            channel_meta={**outcome.meta, "ui_lang": lang},
        )
        refusal = await self.handoff.accept(raw)
        if refusal is not None:
            message = "error_unconfirmed" if refusal.maybe_saved else "error_busy"
            return self.error_page(lang, 503, message, retry_after=refusal.retry_after)
        # The code is on this page only (sent no-store, like every page here).
        return self.render(
            "receipt.html",
            lang,
            reference=raw.tip_id,
            object_ref=object_ref,
            followup_code=issued.code if issued else None,
        )

    def _tip_id(self, submission: object) -> str:
        """The same tip id for every resend of one filled-in form (its hidden submission id),
        so a tipster who sends again after "not confirmed" does not make two tips."""
        if isinstance(submission, str) and _SUBMISSION_RE.fullmatch(submission):
            return self.ids.derive("w-", "form", submission)
        return new_tip_id()

    def session_tipster(self, csrf_token: str, at: datetime) -> str:
        """A keyed pseudonym of this browser session for this period (see ``form_tipster``)."""
        return form_tipster(self.ids, csrf_token, at, self.settings.web_form_tipster_hours)

    async def _read_form(self, request: Request, form: FormData) -> _FormTip | tuple[int, str]:
        """The form's tip, or (status, message id) saying why it is refused."""
        if not self.csrf_matches(request, form.get("csrf")):
            log.info("form tip refused: CSRF token missing or wrong")
            return 403, "error_csrf"
        text = form.get("text")
        if not isinstance(text, str) or not text.strip():
            return 422, "error_empty"
        if len(text) > MAX_BODY_CHARS:
            return 422, "error_too_long"
        meta: dict[str, str | list[str]] = {
            "interface": "form",
            # One browser session is one tipster (the CSRF check above proved the cookie).
            "sender": self.session_tipster(request.cookies[self.csrf_cookie], datetime.now(UTC)),
        }
        contact = form.get("contact")
        sealed = None
        # Contact details are kept only with consent, and only sealed for investigators: the
        # pipeline never holds them in the clear (ingest/contact.py).
        if (
            self.handoff.takes_contact
            and form.get("consent") == "yes"
            and isinstance(contact, str)
            and contact.strip()
        ):
            if len(contact) > MAX_CONTACT_CHARS:
                return 422, "error_contact"
            sealed = self.handoff.seal(contact)
        attachments: tuple[Attachment, ...] = ()
        photo = form.get("photo")
        # Browsers send an empty file part when no photo was chosen.
        if isinstance(photo, UploadFile):
            data = await photo.read(DEFAULT_MAX_BYTES + 1)
            if data:
                try:
                    attachments = (await self.handoff.store_photo(data),)
                except RejectedContentError as exc:
                    log.info("form tip refused: photo (%s)", exc.reason)
                    return 422, "error_photo"
        return _FormTip(text=text, meta=meta, attachments=attachments, sealed_contact=sealed)


def form_tipster(ids: TipIds, csrf_token: str, at: datetime, period_hours: float) -> str:
    """The form's sender identity: one browser session in one period is one tipster.

    The CSRF cookie is random, per browser session (no expiry: gone when the browser closes)
    and never stored; what leaves intake is a keyed HMAC of it and of the period's number, so
    the same browser session gives the same pseudonym within a period and an unlinkable one in
    the next, and neither the cookie nor the IP address can be recovered or matched from it.
    Redact then derives the sender key from this pseudonym as from any channel identity.
    """
    period = int(at.timestamp() // (period_hours * 3600))
    return ids.derive("form-session:", "form-session", csrf_token, str(period))


def _sniff_media_type(path: Path) -> str:
    with path.open("rb") as fh:
        fmt = sniff_format(fh.read(16))
    return {"PNG": "image/png", "WEBP": "image/webp"}.get(fmt or "", "image/jpeg")


def page_lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"), request.query_params.get("lang"))


def _same_origin(request: Request) -> bool:
    """The shared rule (``tipline.core.http.origin_of``); the CSRF token is checked in any case."""
    return origin_of(request.headers, request.headers.get("host")) is not Origin.FOREIGN
