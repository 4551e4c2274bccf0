"""MIME to RawTip: the one place a mail message is taken apart, shared by SMTP and IMAP intake.

Contract:

    parse_message(data, *, received_at, store_image, transport, ...) -> RawTip
        ``data`` is one untrusted RFC 5322 message as bytes. The result is a RawTip on the
        ``email`` channel whose ``tip_id`` depends only on the message (its Message-ID, or its
        stable content when there is none) under the key of ``ids``, so a redelivered message
        is the same tip and nobody holding the sent mail can compute its id. The body is
        the text/plain part (preferred) or the HTML part converted to text; legacy charsets are
        decoded. Image attachments go through ``store_image`` (the photo sanitiser and media
        store); every other attachment is refused and logged by tip id and MIME type only.
        The sender address and every header go to ``channel_meta`` and nowhere else.
        The object is the recipient's ``+object_ref``, else one the subject names ("Objekt
        Nr. 7", "Re: Trace an object #7"); a mail whose only text is its subject is a tip with
        the subject as its text. Raises ``RejectedContentError`` (never anything else) for a
        message that cannot be a tip.

Bodies over ``MAX_BODY_CHARS`` are truncated with ``TRUNCATION_MARKER`` rather than refused:
the tipster cannot see why a mail bounced, and the start of a mail is where the tip usually is.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import logging
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses
from functools import cache
from html.parser import HTMLParser
from typing import Final

import charset_normalizer
from pydantic import ValidationError

from ingest.i18n import load_catalogues
from ingest.tip_ids import TipIds
from schemas.tip import MAX_ATTACHMENTS, MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Attachment, RawTip
from tipline.core.errors import InvalidInputError, RejectedContentError

log = logging.getLogger(__name__)

# Sanitise untrusted image bytes and store them; raises RejectedContentError.
ImageStore = Callable[[bytes], Attachment]

TRUNCATION_MARKER: Final = "\n[… truncated by tipline]"
MAX_DEPTH: Final = 8  # real mail nests 3-4 deep; deeper is a parser attack, not a tip
MAX_PARTS: Final = 200
MAX_HEADERS: Final = 200  # keep a tips.raw record far below Kafka's 1 MB message limit
MAX_HEADER_CHARS: Final = 2_000

# Charset labels mail clients use that Python does not know, or knows as a smaller set.
_CHARSET_ALIASES: Final = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-7": "utf-7",
    "ansi_x3.4-1968": "ascii",
    "us-ascii": "ascii",
}
_IMAGE_TYPES: Final = frozenset({"image/jpeg", "image/png", "image/webp", "image/pjpeg"})
_WS_RE: Final = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES_RE: Final = re.compile(r"\n{3,}")


# --------------------------------------------------------------------------- HTML to text


class _TextExtractor(HTMLParser):
    """Visible text of an HTML fragment, with line breaks where blocks end."""

    _BLOCK: Final = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr"}
        | {"table", "ul", "ol", "pre", "section", "article", "header", "footer", "address"}
    )
    _HIDDEN: Final = frozenset({"script", "style", "head", "title", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: tags dropped, scripts and styles skipped, blocks on lines.

    Deliberately simple; ``normalise`` cleans further. Never raises on broken HTML.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    lines = (_WS_RE.sub(" ", line).strip() for line in "".join(extractor.parts).split("\n"))
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


# --------------------------------------------------------------------------- decoding


# Charsets whose text is not ASCII-compatible: in them, ordinary words have NUL or high bytes
# between the letters. Bytes that read as plain ASCII text cannot be such a charset.
_WIDE_CODECS: Final = frozenset(
    {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-7"}
)


def _looks_ascii_compatible(payload: bytes) -> bool:
    """Most bytes printable ASCII and no NUL: 8-bit text, whatever its label says."""
    if not payload or b"\x00" in payload:
        return False
    printable = sum(1 for b in payload if 0x20 <= b < 0x7F or b in (9, 10, 13))
    return printable / len(payload) >= 0.7


def _guess(payload: bytes) -> str:
    """Undeclared or lying 8-bit text: UTF-8 when it is, else charset-normalizer's best guess."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(payload).best()
    if best is not None and best.encoding not in _WIDE_CODECS:
        return str(best)
    return payload.decode("cp1252", errors="replace")


def decode_bytes(payload: bytes, charset: str | None) -> str:
    """Decode a text part: its declared charset, then UTF-8, then a detected charset.

    Mail often lies about its charset (or omits it for 8-bit text), so a strict decode that
    fails is retried as UTF-8 and then by detection (charset-normalizer). A decode that
    succeeds but cannot be true — a UTF-16 or UTF-32 label over bytes that are plain 8-bit
    text, which would store the tipster's name as CJK mojibake that redaction cannot read —
    is treated as a lie too.
    """
    label = (charset or "").strip().strip('"').lower()
    label = _CHARSET_ALIASES.get(label, label)
    codec: str | None
    try:
        codec = codecs.lookup(label).name if label else None
    except LookupError:
        codec = None
    if codec in _WIDE_CODECS and _looks_ascii_compatible(payload):
        return _guess(payload)
    for candidate in (codec, "utf-8"):
        if candidate is None:
            continue
        try:
            return payload.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return _guess(payload)


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    # SMTP's CRLF line ends are transport, not content.
    return decode_bytes(payload, part.get_content_charset()).replace("\r\n", "\n")


# C0 and C1 controls and DEL: never text in a header, and a terminal escape in a log or console.
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def header_value(raw: object) -> str:
    """A header's value as text on one line, whatever bytes the sender put in it.

    RFC 5322 headers are ASCII, but real mail carries raw UTF-8 and Latin-1; the stdlib parser
    keeps such bytes as lone surrogates, which no encoder accepts (the old 451-forever). The
    bytes are recovered and decoded as UTF-8, else as Windows-1252 (a superset of Latin-1 that
    mail clients mean when they say Latin-1), then RFC 2047 words are decoded and control
    characters become spaces.
    """
    data = str(raw).encode("utf-8", errors="surrogateescape")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "=?" in text:
        # A broken encoded word is kept as it stands.
        with contextlib.suppress(Exception):
            text = str(make_header(decode_header(text)))
    text = text.encode("utf-8", errors="replace").decode("utf-8")  # decoded words can hold them
    return " ".join(_CONTROL_RE.sub(" ", text).split())


def _header_text(msg: Message, name: str) -> str:
    """A header decoded (raw 8-bit and RFC 2047 alike), or "" when absent."""
    for key, raw in msg.raw_items():
        if key.lower() == name.lower():
            return header_value(raw)
    return ""


def _one_line(text: str, limit: int) -> str:
    return " ".join(text.split())[:limit]


# --------------------------------------------------------------------------- structure


def _walk(msg: Message) -> Iterator[tuple[int, Message]]:
    """Every part with its depth, iteratively (deep nesting must not hit the recursion limit)."""
    stack: list[tuple[int, Message]] = [(0, msg)]
    seen = 0
    while stack:
        depth, part = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            raise RejectedContentError(f"message has more than {MAX_PARTS} MIME parts")
        if depth > MAX_DEPTH:
            raise RejectedContentError(f"MIME parts nested deeper than {MAX_DEPTH}")
        yield depth, part
        if part.is_multipart():
            children = part.get_payload()
            if isinstance(children, list):
                stack.extend(
                    (depth + 1, child) for child in reversed(children) if isinstance(child, Message)
                )


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or part.get_content_maintype() not in {"text", "multipart"}


def _choose_body(parts: list[Message]) -> tuple[str, str]:
    """(text, source) of the body: first inline text/plain, else first inline text/html."""
    plain = html = None
    for part in parts:
        if part.is_multipart() or _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain" and plain is None:
            plain = part
        elif ctype == "text/html" and html is None:
            html = part
    if plain is not None:
        text = _part_text(plain)
        # Some senders put an empty text/plain beside the real HTML body.
        if text.strip() or html is None:
            return text, "text/plain"
    if html is not None:
        return html_to_text(_part_text(html)), "text/html"
    for part in parts:
        # A multipart whose boundary never appears is left as one text blob by the parser:
        # the words in it are still the tip.
        if part.get_content_maintype() == "multipart" and not part.is_multipart():
            return _part_text(part), "broken-multipart"
    return "", "none"


# --------------------------------------------------------------------------- identity


def message_tip_id(msg: Message, data: bytes, ids: TipIds) -> str:
    """``m-`` + keyed hash of the Message-ID, or of the stable content when there is none.

    The content hash leaves out trace headers (Received, Delivered-To, …) that change on every
    hop, so a message redelivered by another relay still maps to the same tip.
    """
    message_id = _header_text(msg, "Message-ID").strip()
    if message_id:
        return ids.derive("m-", "message-id", message_id)
    digest = hashlib.sha256(b"content:")
    # The content digest only feeds the keyed id; it is never an id itself.
    for name in ("From", "To", "Date", "Subject"):
        digest.update(_header_text(msg, name).encode("utf-8", "replace") + b"\n")
    body = re.split(rb"\r?\n\r?\n", data, maxsplit=1)
    digest.update(body[1].replace(b"\r\n", b"\n") if len(body) == 2 else b"")
    return ids.derive("m-", "content", digest.hexdigest())


def sender_address(msg: Message, envelope_from: str | None = None) -> str | None:
    """The tipster's address (From, else the envelope sender), lower-cased; None if absent."""
    raw = _header_text(msg, "From")
    for _, addr in getaddresses([raw]):
        if "@" in addr:
            return addr.strip().lower()
    if envelope_from and "@" in envelope_from:
        return envelope_from.strip().lower()
    return None


def object_ref_from_recipients(recipients: list[str]) -> str | None:
    """The object a mail is about, from plus-addressing: ``tips+<object_ref>@domain``."""
    for rcpt in recipients:
        local = rcpt.rpartition("@")[0]
        _, plus, tag = local.partition("+")
        if plus and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", tag):
            return tag
    return None


# "Object" in the tipster's words: the public site's own title for an object page in its 31
# languages ("Gegenstand {ref}", "{ref} tárgy"), and the international word people also write.
_OBJECT_WORDS: Final = ("object", "objekt", "obiekt", "objet", "objeto", "oggetto", "obiect",
                        "objekti", "objektas", "objekts", "объект", "об'єкт", "обект")  # fmt: skip
# Between the word and the reference: "Nr.", "No", "n°", "#", "č.", ":" ...
_REF_SEPARATOR: Final = r"(?:\s*(?:nr|no|n[°º]|num(?:ber|mer|ero)?|č|br|#|№|:|-)\.?)*\s*"
_REF: Final = r"([A-Za-z0-9][A-Za-z0-9._-]{0,63})"
_OBJECT_REF: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# A number with a word ending is not a reference: "2019er", "7th", "3rd".
_NUMBER_WORD: Final = re.compile(r"^\d+[a-z]+$")


@cache
def _subject_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(word before the reference, reference before the word) for every language's word."""
    before: set[str] = set(_OBJECT_WORDS)
    after: set[str] = set()
    for messages in load_catalogues().values():
        title = messages["object_generic_title"].casefold()
        word = title.replace("{ref}", "").strip()
        if word and " " not in word:
            (after if title.startswith("{ref}") else before).add(word)

    # A few letters more for inflected forms ("Objektu", "Przedmiotu", "Gegenstands").
    def alternatives(words: set[str]) -> str:
        return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))

    word_first = re.compile(
        rf"(?<!\w)(?:{alternatives(before)})\w{{0,3}}{_REF_SEPARATOR}{_REF}", re.IGNORECASE
    )
    ref_first = re.compile(
        rf"(?<![\w.-]){_REF}\.?\s+(?:{alternatives(after)})\w{{0,3}}(?!\w)", re.IGNORECASE
    )
    return word_first, ref_first


def object_ref_from_subject(subject: str) -> str | None:
    """The object a subject names: "Objekt Nr. 7", "object 7", "Re: Trace an object #7" -> "7".

    A reference must hold a digit, so "object of my search" names nothing, and not be a number
    with a word ending ("Objekt 2019er Tasche").
    """
    for pattern in _subject_patterns():
        for match in pattern.finditer(subject):
            ref = match.group(1).rstrip("._-")
            if (
                any(c.isdigit() for c in ref)
                and _OBJECT_REF.match(ref)
                and not _NUMBER_WORD.match(ref)
            ):
                return ref
    return None


def _headers_meta(msg: Message) -> dict[str, str | list[str]]:
    meta: dict[str, str | list[str]] = {}
    for count, (name, value) in enumerate(msg.raw_items()):
        if count >= MAX_HEADERS:
            meta["headers_truncated"] = "true"
            break
        key = "h:" + header_value(name).lower()[:64]
        text = header_value(value)[:MAX_HEADER_CHARS]
        existing = meta.get(key)
        if existing is None:
            meta[key] = text
        elif isinstance(existing, list):
            existing.append(text)
        else:
            meta[key] = [existing, text]
    return meta


# --------------------------------------------------------------------------- the parser


def parse_message(
    data: bytes,
    *,
    received_at: datetime,
    store_image: ImageStore | None,
    transport: str,
    ids: TipIds,
    envelope_from: str | None = None,
    recipients: tuple[str, ...] = (),
) -> RawTip:
    """Translate one mail message into a RawTip (see the module contract)."""
    try:
        msg = BytesParser(policy=policy.default).parsebytes(data)
    except (RecursionError, MessageError, ValueError, TypeError, IndexError) as exc:
        raise RejectedContentError(f"unparseable message ({type(exc).__name__})") from exc
    try:
        return _translate(
            msg,
            data,
            received_at=received_at,
            store_image=store_image,
            transport=transport,
            ids=ids,
            envelope_from=envelope_from,
            recipients=recipients,
        )
    except InvalidInputError:
        raise
    except RecursionError as exc:
        raise RejectedContentError("MIME structure too deep to read") from exc
    except Exception as exc:  # the stdlib parser has rare crash paths; a bad mail is not our crash
        log.warning("mail could not be translated: %s", type(exc).__name__)
        raise RejectedContentError(f"malformed message ({type(exc).__name__})") from exc


def _translate(
    msg: EmailMessage | Message,
    data: bytes,
    *,
    received_at: datetime,
    store_image: ImageStore | None,
    transport: str,
    ids: TipIds,
    envelope_from: str | None,
    recipients: tuple[str, ...],
) -> RawTip:
    tip_id = message_tip_id(msg, data, ids)
    parts = [part for _, part in _walk(msg)]
    body, source = _choose_body(parts)

    meta = _headers_meta(msg)
    meta["transport"] = transport
    meta["body_source"] = source
    sender = sender_address(msg, envelope_from)
    if sender:
        meta["sender"] = sender
    if envelope_from:
        meta["envelope_from"] = envelope_from
    if recipients:
        meta["envelope_to"] = list(recipients)
    if msg.defects:
        meta["defects"] = sorted({type(d).__name__ for d in msg.defects})

    attachments: list[Attachment] = []
    refused: list[str] = []
    reasons: list[str] = []
    for part in parts:
        if part.is_multipart() or not _is_attachment(part):
            continue
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            continue  # a forwarded mail: its own parts are walked as children
        reason = _take_attachment(part, ctype, store_image, attachments)
        if reason:
            refused.append(ctype)
            if reason not in reasons:
                reasons.append(reason)
            log.info("tip %s: attachment of type %s refused: %s", tip_id, ctype, reason)
    if refused:
        meta["refused_attachments"] = refused
        # Our own rules' words (never the sender's file names), for the reply to the sender.
        meta["refused_reasons"] = reasons

    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - len(TRUNCATION_MARKER)] + TRUNCATION_MARKER
        meta["body_truncated"] = "true"
    subject = header_subject = _one_line(_header_text(msg, "Subject"), MAX_SUBJECT_CHARS)
    if not body.strip() and subject.strip():
        # "Objekt Nr. 7: bei Rossmann gesehen" as the whole mail: the subject is the tip.
        body, subject = subject, ""
        meta["body_source"] = "subject"
    if not body.strip() and not attachments:
        raise RejectedContentError("message has no text and no usable image", tip_id=tip_id)
    object_ref = object_ref_from_recipients(list(recipients)) or object_ref_from_subject(
        header_subject
    )

    try:
        return RawTip(
            tip_id=tip_id,
            channel="email",
            received_at=received_at,
            object_ref=object_ref,
            subject=subject,
            body=body,
            attachments=tuple(attachments),
            channel_meta=meta,
        )
    except ValidationError as exc:
        # Only declared field names: a channel_meta key is a header name the sender chose.
        fields = ", ".join(
            sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"][:1] != ("channel_meta",)})
        )
        raise RejectedContentError(
            f"invalid tip fields: {fields or 'headers'}", tip_id=tip_id
        ) from exc


def _take_attachment(
    part: Message, ctype: str, store_image: ImageStore | None, attachments: list[Attachment]
) -> str | None:
    """Store an image attachment; return why a part was refused, or None when it was kept."""
    if ctype not in _IMAGE_TYPES:
        return "only JPEG, PNG and WebP images are accepted"
    if store_image is None:
        return "no media store configured"
    if len(attachments) >= MAX_ATTACHMENTS:
        return f"more than {MAX_ATTACHMENTS} images"
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return "empty image part"
    try:
        attachment = store_image(payload)
    except RejectedContentError as exc:
        return exc.reason
    if all(a.sha256 != attachment.sha256 for a in attachments):
        attachments.append(attachment)
    return None


__all__ = [
    "MAX_DEPTH",
    "TRUNCATION_MARKER",
    "ImageStore",
    "decode_bytes",
    "html_to_text",
    "message_tip_id",
    "object_ref_from_recipients",
    "object_ref_from_subject",
    "parse_message",
    "sender_address",
]
