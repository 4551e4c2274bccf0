"""The hostile strings every channel must survive: the Big List of Naughty Strings plus ours."""

from __future__ import annotations

from functools import cache
from pathlib import Path

BLNS = Path(__file__).parents[1] / "data" / "naughty" / "blns.txt"

OURS: tuple[str, ...] = (
    "\u202eLidl in Graz\u202c gekauft",  # RTL override
    "\u2066\u2067\u2068isolates\u2069 and \u200f\u200e marks",
    "Li\u200bd\u200cl\u200d \ufeffGraz\u2060",  # zero-width and word joiners
    "a" + "\u0301" * 10_000,  # 10,000 combining marks on one letter
    "Z\u0351\u0352\u0353" * 2_000,
    "NUL\x00inside\x00text",
    "\x00" * 50,
    "\x1b[31mterminal escape\x1b[0m \x07 bell \x08 backspace",
    "\r\n.\r\nSMTP dot line\r\n.\r\n",
    "=?utf-8?b?PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==?=",
    "🏳️‍🌈👨‍👩‍👧‍👦" * 500,
    "\U0010ffff\ufffe\uffff noncharacters",
    "x" * 20_000,
    "@a " * 6_666,  # redaction growth (issue 9 item 1)
    "a@b.de " * 2_857,
)


@cache
def strings() -> tuple[str, ...]:
    lines = BLNS.read_text(encoding="utf-8").splitlines()
    listed = [line for line in lines if line.strip() and not line.startswith("#")]
    return (*listed, *OURS)


# Lone surrogates as each channel's encoding can carry them.
SURROGATE_JSON = '"a\\ud800b"'  # JSON escape (API, webhook, Kafka records)
SURROGATE_UTF8 = b"a\xed\xa0\x80b"  # the surrogate's (invalid) UTF-8 form (mail, form, import)
