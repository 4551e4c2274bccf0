"""Write the sample .eml corpus next to this script (run once; the .eml files are committed).

Each case is built byte by byte (not with the email package that tipline parses with), so the
corpus tests the parser rather than mirroring it. ``expected.json`` holds, per file, a phrase
the extracted body must contain and the outcome ("tip" or "refused").
"""

from __future__ import annotations

import base64
import io
import json
import quopri
from pathlib import Path

from PIL import Image

HERE = Path(__file__).parent
CRLF = "\r\n"


def head(extra: str = "", *, msgid: str | None = "<{name}@example.org>", subject="Tip") -> str:
    lines = [
        "Received: from mx.example.org by relay.example.net; Mon, 3 Jun 2024 10:00:00 +0000",
        "From: Jana Nováková <jana.novakova@example.cz>",
        "To: tips@tipline.example",
        f"Subject: {subject}",
        "Date: Mon, 3 Jun 2024 10:00:00 +0200",
        "MIME-Version: 1.0",
    ]
    if msgid:
        lines.append(f"Message-ID: {msgid}")
    return CRLF.join(lines) + CRLF + extra


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii").replace("\n", CRLF)


def b64(data: bytes) -> str:
    raw = base64.b64encode(data).decode("ascii")
    return CRLF.join(raw[i : i + 76] for i in range(0, len(raw), 76))


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


CASES: dict[str, tuple[bytes, str, str]] = {}


def case(name: str, raw: str | bytes, phrase: str, outcome: str = "tip") -> None:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    CASES[name] = (data.replace(b"{name}", name.encode()), phrase, outcome)


case(
    "plain_utf8",
    head("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    + "I saw this bag in a Lidl in Graz, Österreich.\r\n\r\n-- \r\nJana\r\n",
    "Lidl in Graz, Österreich",
)
case(
    "html_only",
    head("Content-Type: text/html; charset=utf-8\r\n\r\n")
    + "<html><head><style>p{color:red}</style><script>alert(1)</script></head>"
    "<body><p>The <b>blanket</b> is sold by&nbsp;Pepco</p><p>in Poland.</p></body></html>\r\n",
    "blanket is sold by\xa0Pepco",
)
case(
    "alternative",
    head('Content-Type: multipart/alternative; boundary="ALT"\r\n\r\n')
    + "--ALT\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain: the shirt is from C&A.\r\n"
    + "--ALT\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML: the shirt</p>\r\n"
    + "--ALT--\r\n",
    "Plain: the shirt is from C&A.",
)
case(
    "qp_iso8859_2",
    head(
        "Content-Type: text/plain; charset=iso-8859-2\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    + qp("Widziałem tę torbę w Żabce w Łodzi.", "iso-8859-2"),
    "Widziałem tę torbę w Żabce w Łodzi.",
)
case(
    "base64_koi8r",
    head("Content-Type: text/plain; charset=koi8-r\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    + b64("Эту сумку продают в Пятёрочке в Москве.".encode("koi8-r")),
    "продают в Пятёрочке",
)
case(
    "windows1250_8bit",
    head(
        "Content-Type: text/plain; charset=windows-1250\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode("ascii", "replace")
    + "Tašku jsem viděla v Brně, obchod Tesco.\r\n".encode("windows-1250"),
    "Tašku jsem viděla v Brně",
)
case(
    "shift_jis",
    head("Content-Type: text/plain; charset=shift_jis\r\nContent-Transfer-Encoding: base64\r\n\r\n")
    + b64("このバッグは大阪のユニクロで買えます。".encode("shift_jis")),
    "大阪のユニクロ",
)
case(
    "ks_c_5601_alias",
    head(
        "Content-Type: text/plain; charset=ks_c_5601-1987\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    )
    + b64("이 가방은 서울 이마트에서 팔아요.".encode("cp949")),
    "서울 이마트",
)
case(
    "encoded_subject",
    head(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n",
        subject="=?iso-8859-2?Q?Torba_z_=AFabki?=",
    )
    + "See subject.\r\n",
    "See subject.",
)
case(
    "image_attachment",
    head('Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n')
    + "--MIX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPhoto of the label attached.\r\n"
    + '--MIX\r\nContent-Type: image/jpeg; name="IMG_0001.jpg"\r\n'
    'Content-Disposition: attachment; filename="IMG_0001.jpg"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n" + b64(jpeg()) + "\r\n--MIX--\r\n",
    "Photo of the label attached.",
)
case(
    "exe_attachment",
    head('Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n')
    + "--MIX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the program.\r\n"
    + '--MIX\r\nContent-Type: application/x-msdownload; name="label.exe"\r\n'
    'Content-Disposition: attachment; filename="label.exe"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n"
    + b64(b"MZ\x90\x00" * 64)
    + "\r\n"
    + '--MIX\r\nContent-Type: application/zip; name="more.zip"\r\n'
    "Content-Transfer-Encoding: base64\r\n\r\n" + b64(b"PK\x03\x04" * 16) + "\r\n--MIX--\r\n",
    "See the program.",
)
case(
    "image_named_exe",
    head('Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n')
    + "--MIX\r\nContent-Type: text/plain\r\n\r\nA photo that is not one.\r\n"
    + "--MIX\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\n"
    + b64(b"MZ not a jpeg at all" * 10)
    + "\r\n--MIX--\r\n",
    "A photo that is not one.",
)
case(
    "nested_forward",
    head('Content-Type: multipart/mixed; boundary="OUT"\r\n\r\n')
    + '--OUT\r\nContent-Type: multipart/alternative; boundary="IN"\r\n\r\n'
    + "--IN\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nForwarding what my friend saw.\r\n"
    + "--IN\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Forwarding</p>\r\n--IN--\r\n"
    + "--OUT\r\nContent-Type: message/rfc822\r\n\r\n"
    + "From: friend@example.com\r\nSubject: bag\r\nContent-Type: text/plain\r\n\r\n"
    + "It is from Kaufland.\r\n--OUT--\r\n",
    "Forwarding what my friend saw.",
)
case(
    "missing_boundary",
    head('Content-Type: multipart/mixed; boundary="NEVER"\r\n\r\n')
    + "--WRONG\r\nContent-Type: text/plain\r\n\r\n"
    + "The dress came from Zara in Lyon.\r\n--WRONG--\r\n",
    "Zara in Lyon",
)
case(
    "no_boundary_param",
    head("Content-Type: multipart/mixed\r\n\r\n") + "Bought at Billa in Wien.\r\n",
    "Billa in Wien",
)
case(
    "bad_headers",
    "From: <<<@@@>>>\r\nTo: tips@tipline.example\r\nSubject: =?bogus?X?zzz?=\r\n"
    "Date: yesterday-ish\r\nMessage-ID: not-in-brackets\r\nContent-Type: text/plain; charset=\r\n"
    "X-Weird: \x01\x02\r\n\r\nThe toy is from Smyths in Dublin.\r\n",
    "Smyths in Dublin",
)
case(
    "unknown_charset",
    head("Content-Type: text/plain; charset=x-no-such-charset\r\n\r\n")
    + "Spar in Salzburg, Straße.\r\n",
    "Spar in Salzburg, Straße.",
)
case(
    "no_message_id",
    head("Content-Type: text/plain\r\n\r\n", msgid=None) + "Seen at Hema in Utrecht.\r\n",
    "Hema in Utrecht",
)
# Issue #11: a mail whose only text is its subject ("Tip") is a tip with that text; one with
# no text at all, not even a subject, is still refused.
case("empty_body", head("Content-Type: text/plain\r\n\r\n") + "\r\n", "Tip")
case(
    "no_text_at_all",
    head("Content-Type: text/plain\r\n\r\n", subject="") + "\r\n",
    "",
    "refused",
)
# The object named in the subject, in the public site's words or the international one.
case(
    "subject_object_de",
    head(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        subject="Objekt Nr. 7",
    )
    + "Ich habe diese Tasche bei Rossmann in Hannover gesehen.\r\n",
    "bei Rossmann in Hannover",
)
case(
    "subject_only_reply",
    head("Content-Type: text/plain\r\n\r\n", subject="Re: Trace an object #7") + "\r\n",
    "Trace an object #7",
)
case(
    "only_exe",
    head('Content-Type: multipart/mixed; boundary="MIX"\r\n\r\n')
    + "--MIX\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    + b64(b"\x00" * 100)
    + "\r\n--MIX--\r\n",
    "Tip",  # the subject is the text (issue #11); the .exe is refused
)


def deep(depth: int) -> str:
    text = head('Content-Type: multipart/mixed; boundary="b0"\r\n\r\n')
    for i in range(1, depth):
        text += f'--b{i - 1}\r\nContent-Type: multipart/mixed; boundary="b{i}"\r\n\r\n'
    text += f"--b{depth - 1}\r\nContent-Type: text/plain\r\n\r\nToo deep.\r\n"
    for i in reversed(range(depth)):
        text += f"--b{i}--\r\n"
    return text


case("deep_nesting", deep(60), "", "refused")
case("bomb_nesting", deep(3000), "", "refused")


def main() -> None:
    expected = {}
    for name, (data, phrase, outcome) in CASES.items():
        (HERE / f"{name}.eml").write_bytes(data)
        expected[name] = {"phrase": phrase, "outcome": outcome}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(CASES)} messages")


if __name__ == "__main__":
    main()
