"""MIME to RawTip: the sample corpus, tip-id stability, privacy of headers, limits."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from ingest.mime import (
    MAX_DEPTH,
    TRUNCATION_MARKER,
    decode_bytes,
    html_to_text,
    object_ref_from_recipients,
    object_ref_from_subject,
    parse_message,
)
from ingest.photos import sanitise_image
from ingest.tip_ids import TipIds
from schemas.tip import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Attachment, RawTip
from tipline.core.errors import RejectedContentError

CORPUS = Path(__file__).parents[2] / "data" / "mail"
EXPECTED: dict[str, dict[str, str]] = json.loads((CORPUS / "expected.json").read_text())
NOW = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)

IDS = TipIds(b"test-tip-id-secret-0123456789")


def memory_store(data: bytes) -> Attachment:
    """The real sanitiser without the disk: the attachment record MediaStore.put would return."""
    image = sanitise_image(data)
    return Attachment(
        sha256=image.sha256,
        media_type=image.media_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
    )


def parse(data: bytes, **kw: object) -> RawTip:
    kw.setdefault("received_at", NOW)
    kw.setdefault("store_image", memory_store)
    kw.setdefault("transport", "test")
    kw.setdefault("ids", IDS)
    return parse_message(data, **kw)  # type: ignore[arg-type]


def eml(name: str) -> bytes:
    return (CORPUS / f"{name}.eml").read_bytes()


def plain(body: str, *, headers: str = "", charset: str = "utf-8") -> bytes:
    return (
        "From: Tipster <someone@example.net>\r\nTo: tips@tipline.example\r\nSubject: s\r\n"
        + headers
        + f"Content-Type: text/plain; charset={charset}\r\n\r\n"
    ).encode() + body.encode(charset)


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["outcome"] == "tip"))
def test_corpus_message_becomes_a_tip_with_its_text(name: str) -> None:
    tip = parse(eml(name))
    assert EXPECTED[name]["phrase"] in tip.body
    assert tip.channel == "email"
    assert tip.tip_id.startswith("m-")
    assert "\r" not in tip.body


@pytest.mark.parametrize(
    "name", sorted(n for n, e in EXPECTED.items() if e["outcome"] == "refused")
)
def test_corpus_message_is_refused_with_a_reason(name: str) -> None:
    with pytest.raises(RejectedContentError) as info:
        parse(eml(name))
    assert info.value.reason


@pytest.mark.parametrize(
    ("name", "subject"),
    [("encoded_subject", "Torba z Żabki"), ("plain_utf8", "Tip"), ("bad_headers", None)],
)
def test_subject_is_decoded(name: str, subject: str | None) -> None:
    tip = parse(eml(name))
    if subject is None:
        assert len(tip.subject) <= MAX_SUBJECT_CHARS
    else:
        assert tip.subject == subject


def test_alternative_prefers_plain_and_html_only_drops_markup() -> None:
    assert "HTML:" not in parse(eml("alternative")).body
    html = parse(eml("html_only")).body
    assert "<" not in html
    assert "alert" not in html
    assert "color:red" not in html


def test_forwarded_message_inner_text_is_not_the_body() -> None:
    tip = parse(eml("nested_forward"))
    assert "Kaufland" not in tip.body


# --------------------------------------------------------------------------- attachments


def test_image_attachment_is_sanitised_and_kept() -> None:
    tip = parse(eml("image_attachment"))
    assert len(tip.attachments) == 1
    assert tip.attachments[0].media_type == "image/jpeg"
    assert (tip.attachments[0].width, tip.attachments[0].height) == (32, 24)


@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("exe_attachment", ["application/x-msdownload", "application/zip"]),
        ("image_named_exe", ["image/jpeg"]),
    ],
)
def test_other_attachments_are_refused_and_logged_without_names(
    name: str, refused: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ingest.mime"):
        tip = parse(eml(name))
    assert tip.attachments == ()
    assert tip.channel_meta["refused_attachments"] == refused
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert tip.tip_id in logged
    for secret in ("label.exe", "more.zip", "jana", "example.cz", "program"):
        assert secret not in logged.lower()


def test_image_without_store_is_refused_not_crashed() -> None:
    tip = parse(eml("image_attachment"), store_image=None)
    assert tip.attachments == ()
    assert tip.channel_meta["refused_attachments"] == ["image/jpeg"]


def test_image_only_mail_is_a_tip() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = (
        "From: a@example.net\r\nMessage-ID: <img@x>\r\n"
        'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n'
        "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(buf.getvalue()).decode()
        + "\r\n--B--\r\n"
    ).encode()
    tip = parse(data)
    assert tip.body == ""
    assert [a.media_type for a in tip.attachments] == ["image/png"]


# --------------------------------------------------------------------------- identity


@pytest.mark.parametrize("name", ["plain_utf8", "no_message_id"])
def test_tip_id_is_keyed(name: str) -> None:
    """Whoever holds the sent mail cannot compute its tip id (issue 9 item 5)."""
    unkeyed = "m-" + hashlib.sha256(b"message-id:<plain_utf8@example.org>").hexdigest()[:32]
    tip_id = parse(eml(name)).tip_id
    assert tip_id != unkeyed
    assert tip_id.startswith("m-")
    assert tip_id == parse(eml(name)).tip_id
    assert tip_id != parse(eml(name), ids=TipIds(b"another-secret-0123456789")).tip_id


@pytest.mark.parametrize("name", ["plain_utf8", "no_message_id", "image_attachment"])
def test_redelivery_through_another_relay_is_the_same_tip(name: str) -> None:
    original = eml(name)
    relayed = b"Received: from other.relay by mx2; Tue, 4 Jun 2024 01:00:00 +0000\r\n" + original
    lf_only = original.replace(b"\r\n", b"\n")
    ids = {parse(original).tip_id, parse(relayed).tip_id, parse(lf_only).tip_id}
    assert len(ids) == 1


def test_different_messages_without_message_id_get_different_ids() -> None:
    one = parse(plain("Seen in Graz.")).tip_id
    other = parse(plain("Seen in Linz.")).tip_id
    assert one != other


# --------------------------------------------------------------------------- privacy


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if e["outcome"] == "tip"))
def test_headers_and_sender_only_in_channel_meta(name: str) -> None:
    tip = parse(eml(name), envelope_from="bounce-jana@example.cz")
    outside = tip.model_dump_json(exclude={"channel_meta"}).lower()
    # The body is the tipster's own text (a signature in it is normalise's to strip); what
    # must not leak is what only the headers and the envelope carry.
    traces = ("jana.novakova", "nováková", "example.cz", "relay.example.net", "@example.org")
    for trace in traces:
        assert trace not in outside
    assert "h:from" in tip.channel_meta


def test_sender_is_the_from_address_lower_cased() -> None:
    tip = parse(plain("x", headers="").replace(b"someone@", b"SomeOne@"))
    assert tip.channel_meta["sender"] == "someone@example.net"


def test_sender_falls_back_to_the_envelope() -> None:
    data = b"Subject: s\r\nContent-Type: text/plain\r\n\r\nhello"
    tip = parse(data, envelope_from="Env@Example.net")
    assert tip.channel_meta["sender"] == "env@example.net"


@pytest.mark.parametrize(
    ("recipients", "ref"),
    [
        (["tips+OBJ-42@tipline.example"], "OBJ-42"),
        (["tips@tipline.example"], None),
        (["tips+@tipline.example"], None),
        (["tips+../etc@tipline.example"], None),
        (["tips@x", "tips+a.b_c@x"], "a.b_c"),
    ],
)
def test_object_ref_from_plus_address(recipients: list[str], ref: str | None) -> None:
    assert object_ref_from_recipients(recipients) == ref


def test_object_ref_reaches_the_tip() -> None:
    tip = parse(plain("hello"), recipients=("tips+OBJ-7@tipline.example",))
    assert tip.object_ref == "OBJ-7"


# --- issue 11: the object in the subject; a subject-only mail is a tip ---------------------------


@pytest.mark.parametrize(
    ("subject", "ref"),
    [
        ("Objekt Nr. 7", "7"),
        ("object 7", "7"),
        ("Re: Trace an object #7", "7"),
        ("AW: Objekt Nr. 7.", "7"),
        ("Przedmiot nr 12 – widziałam w Żabce", "12"),  # the public site's Polish word
        ("Gegenstand 42", "42"),
        ("Objet nº 15", "15"),
        ("Oggetto n° 3", "3"),
        ("Предмет № 5", "5"),
        ("Predmet br. 4", "4"),
        ("Předmětu 8", "8"),  # inflected
        ("7. tárgy", "7"),  # Hungarian puts the number first, as the site does
        ("Trace an Object: OBJ-42", "OBJ-42"),
        ("object of my search", None),  # a reference holds a digit
        ("Objekt 2019er Tasche", None),  # a number with a word ending is not one
        ("Tip", None),
        ("Rossmann in Graz", None),
    ],
)
def test_object_ref_from_subject(subject: str, ref: str | None) -> None:
    assert object_ref_from_subject(subject) == ref


def test_object_in_the_subject_reaches_the_tip() -> None:
    tip = parse(eml("subject_object_de"), recipients=("tips@tipline.example",))
    assert tip.object_ref == "7"
    assert tip.subject == "Objekt Nr. 7"
    assert "bei Rossmann in Hannover" in tip.body


def test_plus_address_wins_over_the_subject() -> None:
    tip = parse(eml("subject_object_de"), recipients=("tips+OBJ-9@tipline.example",))
    assert tip.object_ref == "OBJ-9"


def test_a_mail_whose_only_text_is_its_subject_is_a_tip() -> None:
    tip = parse(eml("subject_only_reply"), recipients=("tips@tipline.example",))
    assert tip.body == "Re: Trace an object #7"
    assert tip.subject == ""  # moved, not doubled: evidence and dedupe read it once
    assert tip.object_ref == "7"
    assert tip.channel_meta["body_source"] == "subject"


def test_a_mail_without_any_text_is_still_refused() -> None:
    with pytest.raises(RejectedContentError):
        parse(eml("no_text_at_all"))


# --------------------------------------------------------------------------- limits


def test_long_body_is_truncated_with_a_marker() -> None:
    tip = parse(plain("Graz " * 10_000))
    assert len(tip.body) == MAX_BODY_CHARS
    assert tip.body.endswith(TRUNCATION_MARKER)
    assert tip.channel_meta["body_truncated"] == "true"


def test_long_subject_is_cut_to_the_limit() -> None:
    tip = parse(plain("x").replace(b"Subject: s", b"Subject: " + b"a" * 2000))
    assert len(tip.subject) == MAX_SUBJECT_CHARS


def test_nesting_at_the_limit_is_read_and_beyond_it_refused() -> None:
    def nested(depth: int) -> bytes:
        text = "From: a@b.c\r\n"
        for i in range(depth):
            text += f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n'
        text += "Content-Type: text/plain\r\n\r\nDeep tip.\r\n"
        for i in reversed(range(depth)):
            text += f"--b{i}--\r\n"
        return text.encode()

    assert parse(nested(MAX_DEPTH)).body.strip() == "Deep tip."
    with pytest.raises(RejectedContentError):
        parse(nested(MAX_DEPTH + 1))


def test_many_headers_are_capped_in_channel_meta() -> None:
    headers = "".join(f"X-H{i}: v\r\n" for i in range(1000))
    tip = parse(plain("x", headers=headers))
    assert len(tip.channel_meta) < 260
    assert tip.channel_meta["headers_truncated"] == "true"


# --------------------------------------------------------------------------- decoding


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        ("Zażółć gęślą jaźń", "iso-8859-2"),
        ("Příliš žluťoučký kůň", "windows-1250"),
        ("Съешь же ещё этих", "koi8-r"),
        ("いろはにほへと", "shift_jis"),
        ("Grüße aus Köln", "latin-1"),
        ("漢字と仮名", "euc-jp"),
    ],
)
def test_legacy_charsets_decode(text: str, charset: str) -> None:
    assert decode_bytes(text.encode(charset), charset) == text


def test_utf8_mislabelled_as_ascii_is_recovered() -> None:
    assert decode_bytes("Straße".encode(), "us-ascii") == "Straße"


@given(st.binary(max_size=300), st.sampled_from(["utf-8", "koi8-r", "bogus", "", "shift_jis"]))
def test_decode_bytes_never_raises(data: bytes, charset: str) -> None:
    assert isinstance(decode_bytes(data, charset), str)


@given(st.text(max_size=300))
def test_html_to_text_never_raises_and_drops_tags(text: str) -> None:
    out = html_to_text(f"<p>{text}</p><script>evil()</script>")
    assert "evil()" not in out or "evil()" in text


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_are_a_tip_or_a_clean_refusal(data: bytes) -> None:
    try:
        tip = parse(data)
    except RejectedContentError:
        return
    assert tip.tip_id.startswith("m-")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=400))
def test_any_plain_text_survives_the_round_trip(text: str) -> None:
    data = plain(text)
    expected = text.replace("\r\n", "\n")
    tip = parse(data)
    # A blank body leaves the subject ("s") as the only text, and that is the tip (issue #11).
    assert tip.body == (expected if expected.strip() else "s")


# --- issue 9 item 2: raw 8-bit headers, control characters, records under the broker limit -------

RAW_HEADERS = {
    "utf8-from": b"From: J\xc3\xbcrgen Gr\xc3\xb6\xc3\x9fmann <jg@example.org>\r\n",
    "latin1-from": b"From: J\xfcrgen Gr\xf6\xdfmann <jg@example.org>\r\n",
    "controls": b"From: jg@example.org\r\nX-Junk: \x01\x02\x1b[31m\r\n \x03\x7f\x0b\x0c\r\n",
}


@pytest.mark.parametrize("name", sorted(RAW_HEADERS))
def test_raw_non_ascii_headers_are_decoded_and_encodable(name: str) -> None:
    from ingest.producer import encode

    data = (
        RAW_HEADERS[name]
        + b"To: tips@tipline.example\r\nSubject: Gr\xc3\xb6\xc3\x9fe 38\r\n"
        + b"Message-ID: <raw-8bit@example.org>\r\n\r\nSaw the bag at Lidl in Graz.\r\n"
    )
    tip = parse(data)
    _, value = encode(tip)  # a surrogate here was the 451-forever of the audit
    text = value.decode("utf-8")
    assert "\\udc" not in text
    assert tip.subject == "Größe 38"
    assert tip.channel_meta["sender"] == "jg@example.org"
    for key, meta in tip.channel_meta.items():
        for item in [meta] if isinstance(meta, str) else meta:
            assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in item), (key, item)
    if name != "controls":
        assert "Jürgen Größmann" in str(tip.channel_meta["h:from"])


def test_record_stays_under_the_broker_limit() -> None:
    from ingest.producer import MAX_RECORD_BYTES, encode

    # 200 headers of 2,000 control characters: JSON escapes each as \u00XX (6 bytes).
    headers = b"".join(b"X-H%d: %s\r\n" % (i, b"\x01" * 2_000) for i in range(200))
    body = "𝔊" * 19_000  # 4 bytes per character in UTF-8
    data = (
        b"From: jg@example.org\r\nSubject: x\r\n"
        + headers
        + b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
        + body.encode()
    )
    tip = parse(data)
    _, value = encode(tip)
    assert len(value) <= MAX_RECORD_BYTES
    assert json.loads(value)["body"] == tip.body


# --- issue 9 item 4: a declared charset that cannot be true --------------------------------------


@pytest.mark.parametrize("declared", ["utf-16", "utf-16-le", "UTF-16BE", "utf-32"])
@pytest.mark.parametrize("real", ["utf-8", "latin-1"])
def test_charset_lie_is_detected_and_redaction_sees_the_text(declared: str, real: str) -> None:
    from processors.redact import redact_text

    text = "Ich heiße Jürgen Größmann, Tel. 0664 1234567. Die Tasche ist von Lidl in Graz."
    payload = text.encode(real)
    payload += b" " * (len(payload) % 4)  # any length a UTF-16/32 decode would accept
    data = (
        b"From: jg@example.org\r\nSubject: Tasche\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: text/plain; charset={declared}\r\n".encode()
        + b"Content-Transfer-Encoding: 8bit\r\n\r\n"
        + payload
    )
    tip = parse(data)
    assert "Jürgen Größmann" in tip.body
    counts: Counter[str] = Counter()
    redacted = redact_text(tip.body, counts)  # type: ignore[arg-type]
    assert "1234567" not in redacted
    assert "Lidl in Graz" in redacted


def test_real_utf16_is_still_read_as_utf16() -> None:
    text = "Tasche von Lidl, 手提包"
    assert decode_bytes(text.encode("utf-16"), "utf-16") == text
    assert decode_bytes(text.encode("utf-16-le"), "utf-16-le") == text
