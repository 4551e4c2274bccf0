"""Analysts' accounts: roles, argon2 password hashes, and the admin steps of `tipline analyst`.

Contract:

    ROLES                                   analyst | supervisor | ops (see ``PERMISSIONS``)
    hash_password(pw) -> str                argon2id PHC string (argon2-cffi's defaults)
    password_matches(phc, pw) -> bool       constant-time check; False for any malformed hash
    add(url, name, role, pw) / list_all(url) / disable(url, name) / revoke(url, name)
        the CLI's steps, each one transaction; disable and revoke end the analyst's sessions.

Passwords reach this module only from a prompt or stdin (never argv); nothing here logs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tipline.core.errors import ConfigurationError

Role = Literal["analyst", "supervisor", "ops"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIN_PASSWORD_CHARS: Final = 12

# Who may do what. "read" is reading tips (bodies, photos, the queue); ops people watch the
# pipeline and never read what tipsters wrote.
READERS: Final[frozenset[Role]] = frozenset({"analyst", "supervisor"})
SUPERVISORS: Final[frozenset[Role]] = frozenset({"supervisor"})
EVERYONE: Final[frozenset[Role]] = frozenset(ROLES)

_HASHER: Final = PasswordHasher()
# Checked when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH: Final = _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def password_matches(phc: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(phc or _DUMMY_HASH, password) and bool(phc)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_new(name: str, role: str, password: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise ConfigurationError(f"analyst name must match {NAME_RE.pattern}")
    if role not in ROLES:
        raise ConfigurationError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_CHARS:
        raise ConfigurationError(f"the password needs at least {MIN_PASSWORD_CHARS} characters")


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    sessions: int


def add(url: str, name: str, role: str, password: str) -> None:
    """Create an account, or set a new password and role for an existing one (re-enabled)."""
    check_new(name, role, password)
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO analysts (name, role, password_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET role = excluded.role,"
            " password_hash = excluded.password_hash, disabled_at = NULL",
            (name, role, hash_password(password)),
        )
        # A new password ends the sessions made with the old one.
        _revoke(conn, name)


def list_all(url: str) -> list[Account]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT a.name, a.role, a.created_at, a.disabled_at,"
            " (SELECT count(*) FROM review_sessions s WHERE s.analyst = a.name"
            "  AND s.revoked_at IS NULL AND s.expires_at > now())"
            " FROM analysts a ORDER BY a.name"
        ).fetchall()
    return [Account(*row) for row in rows]


def disable(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        found = conn.execute(
            "UPDATE analysts SET disabled_at = coalesce(disabled_at, now()) WHERE name = %s",
            (name,),
        ).rowcount
        _revoke(conn, name)
    return bool(found)


def revoke(url: str, name: str) -> int:
    """End every open session of ``name`` (accounts and token logins alike)."""
    with psycopg.connect(url) as conn:
        return _revoke(conn, name)


def _revoke(conn: psycopg.Connection[tuple[object, ...]], name: str) -> int:
    return conn.execute(
        "UPDATE review_sessions SET revoked_at = now() WHERE analyst = %s AND revoked_at IS NULL",
        (name,),
    ).rowcount
