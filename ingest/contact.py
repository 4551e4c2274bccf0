"""Sealed contact details: a tipster who agrees to be contacted is reachable by investigators
only, never by the pipeline.

The adapter seals the contact with the investigators' public key (libsodium sealed box:
X25519 + XSalsa20-Poly1305) the moment it arrives. Kafka, the workers, the reviewer database and
every log only ever hold ciphertext; the private key lives offline with the investigators
(`tipline contact-keys` makes a pair, `tipline contact-open` opens one). Without a configured
public key the adapters do not offer or accept contact details at all, so no promise is made
that cannot be kept.
"""

from __future__ import annotations

import base64

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from tipline.core.errors import ConfigurationError, InvalidInputError

MAX_CONTACT_CHARS = 200


def _decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError as exc:
        raise ConfigurationError("contact key: not base64") from exc
    if len(raw) != 32:
        raise ConfigurationError("contact key: must be 32 bytes")
    return raw


def seal_contact(contact: str, public_key: str) -> str:
    """Encrypt ``contact`` for the holder of the private key; base64 text safe for any store."""
    contact = contact.strip()
    if not contact:
        raise InvalidInputError("contact: empty")
    if len(contact) > MAX_CONTACT_CHARS:
        raise InvalidInputError(f"contact: longer than {MAX_CONTACT_CHARS} characters")
    box = SealedBox(PublicKey(_decode(public_key)))
    return base64.b64encode(box.encrypt(contact.encode())).decode()


def open_contact(sealed: str, private_key: str) -> str:
    """The investigators' side: decrypt a sealed contact with the private key."""
    box = SealedBox(PrivateKey(_decode(private_key)))
    try:
        return box.decrypt(base64.b64decode(sealed, validate=True)).decode()
    except (ValueError, CryptoError) as exc:
        raise InvalidInputError("sealed contact: not readable with this key") from exc


def new_key_pair() -> tuple[str, str]:
    """(public, private), base64: the public key goes into TIPLINE_CONTACT_PUBLIC_KEY, the
    private key to the investigators, offline."""
    private = PrivateKey.generate()
    return (
        base64.b64encode(bytes(private.public_key)).decode(),
        base64.b64encode(bytes(private)).decode(),
    )
