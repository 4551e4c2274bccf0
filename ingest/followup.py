"""Follow-up receipts: the secret a tipster keeps to read an analyst's question and answer it.

A receipt code is ``<lookup id>-<secret>`` in lower-case base32, shown in groups of four for
reading aloud or typing (``abcd-efgh-ij23-…``). It is made at intake from random bytes only:

    lookup id   10 characters (50 bits): finds the receipt row; not a secret
    secret      16 characters (80 bits): only its argon2id hash leaves this process

The RawTip carries ``FollowUpReceipt(lookup_id, secret_hash)`` through the pipeline like any
other field, and the sink stores it in ``followup_receipts`` beside the tip. The plain code is
shown once, on the receipt page (or in the e-mail auto-reply), and is never logged or stored.
Nothing in a receipt derives from the tipster, so holding the table names nobody; guessing a
code means guessing 80 bits through an argon2 check and the page's rate limit.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from schemas.tip import FollowUpReceipt

LOOKUP_CHARS: Final = 10
SECRET_CHARS: Final = 16
_CODE_RE: Final = re.compile(r"^[a-z2-7]{26}$")
# argon2-cffi's defaults (RFC 9106 "low memory" profile): ~50 ms and 64 MiB per check.
_HASHER: Final = PasswordHasher()


@dataclass(frozen=True)
class IssuedReceipt:
    """A new receipt: the code for the tipster's eyes only, and what the pipeline may carry."""

    code: str
    stored: FollowUpReceipt


def _random_base32(chars: int) -> str:
    return base64.b32encode(secrets.token_bytes(chars)).decode().lower()[:chars]


def issue_receipt() -> IssuedReceipt:
    """A fresh receipt. Slow on purpose (argon2): call it off the event loop."""
    lookup = _random_base32(LOOKUP_CHARS)
    secret = _random_base32(SECRET_CHARS)
    stored = FollowUpReceipt(lookup_id=lookup, secret_hash=_HASHER.hash(secret))
    return IssuedReceipt(code=format_code(lookup + secret), stored=stored)


def format_code(flat: str) -> str:
    """``abcdefgh…`` as ``abcd-efgh-…``: groups of four are easier to copy by hand."""
    return "-".join(flat[i : i + 4] for i in range(0, len(flat), 4))


def parse_code(typed: str) -> tuple[str, str] | None:
    """(lookup id, secret) from what a tipster typed or pasted, else None.

    Spaces, dashes and case are forgiven, and the base32 look-alikes 0/1/8 are read as o/l/b:
    people copy codes from paper.
    """
    flat = re.sub(r"[\s\-_.]+", "", typed.strip().lower())
    flat = flat.translate(str.maketrans("018", "olb"))
    if not _CODE_RE.fullmatch(flat):
        return None
    return flat[:LOOKUP_CHARS], flat[LOOKUP_CHARS:]


def verify_secret(secret_hash: str, secret: str) -> bool:
    """Whether ``secret`` is the one hashed into ``secret_hash``. Slow on purpose (argon2)."""
    try:
        return _HASHER.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False
