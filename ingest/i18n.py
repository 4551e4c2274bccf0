"""Interface languages of the public tip form: message catalogues and Accept-Language matching.

Catalogues are flat JSON files ``ingest/locales/<lang>.json`` (message id -> text). English is
the reference: every other catalogue must carry exactly its keys, which ``load_catalogues``
checks at start-up so a missing translation is a configuration error, not a blank label.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from tipline.core.errors import ConfigurationError

LOCALES_DIR: Final = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE: Final = "en"
# The 31 languages of the public site, in the switcher's order (alphabetical by the name each
# language has in itself, as the public site lists them); each is named in itself.
LANGUAGES: Final[dict[str, str]] = {
    "bg": "Български",
    "cs": "Čeština",
    "da": "Dansk",
    "de": "Deutsch",
    "et": "Eesti",
    "el": "Ελληνικά",
    "en": "English",
    "es": "Español",
    "fr": "Français",
    "ga": "Gaeilge",
    "gd": "Gàidhlig",
    "hr": "Hrvatski",
    "is": "Íslenska",
    "it": "Italiano",
    "lv": "Latviešu",
    "lb": "Lëtzebuergesch",
    "lt": "Lietuvių",
    "hu": "Magyar",
    "mk": "Македонски",
    "mt": "Malti",
    "nl": "Nederlands",
    "nb": "Norsk",
    "pl": "Polski",
    "pt": "Português",
    "ro": "Română",
    "ru": "Русский",
    "sk": "Slovenčina",
    "sl": "Slovenščina",
    "fi": "Suomi",
    "sv": "Svenska",
    "uk": "Українська",
}
# Accept-Language tags that mean a language we offer under another code: the interface has one
# Norwegian (Bokmål) catalogue, which Nynorsk and plain "no" readers get too.
ALIASES: Final[dict[str, str]] = {"no": "nb", "nn": "nb"}
# Writing direction per language; every language offered today is left-to-right, but the
# templates read this so that adding Arabic needs only its catalogue and an entry here.
RTL_LANGUAGES: Final[frozenset[str]] = frozenset({"ar"})


def direction(lang: str) -> str:
    """The HTML ``dir`` of an interface language."""
    return "rtl" if lang in RTL_LANGUAGES else "ltr"


_RANGE_RE: Final = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([^\s,;]+))?"
)

Catalogue = Mapping[str, str]


def load_catalogues(directory: Path = LOCALES_DIR) -> dict[str, Catalogue]:
    """Every language's messages; raises ConfigurationError if one is missing or incomplete."""
    catalogues: dict[str, Catalogue] = {}
    for lang in LANGUAGES:
        path = directory / f"{lang}.json"
        try:
            messages = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read message catalogue {path}: {exc}") from exc
        if not isinstance(messages, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in messages.items()
        ):
            raise ConfigurationError(f"message catalogue {path} is not a flat string mapping")
        catalogues[lang] = messages
    reference = set(catalogues[DEFAULT_LANGUAGE])
    for lang, messages in catalogues.items():
        if set(messages) != reference:
            missing = sorted(reference - set(messages))
            extra = sorted(set(messages) - reference)
            raise ConfigurationError(
                f"message catalogue {lang} differs from English: missing {missing}, extra {extra}"
            )
    return catalogues


def negotiate(accept_language: str | None, requested: str | None = None) -> str:
    """The interface language: an explicit ``?lang=`` wins, then Accept-Language, then English.

    Accept-Language ranges are matched on their primary subtag ("de-AT" -> "de"), highest q
    first, ties in the header's order; q=0 means "not this one".
    """
    if requested:
        lang = requested.strip().lower()
        lang = ALIASES.get(lang, lang)
        if lang in LANGUAGES:
            return lang
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, str] | None = None
    # The header is attacker-controlled: look at a bounded number of ranges only.
    for position, part in enumerate(accept_language[:1000].split(",")[:32]):
        match = _RANGE_RE.match(part)
        if not match:
            continue
        tag, q_text = match.groups()
        try:
            q = float(q_text) if q_text is not None else 1.0
        except ValueError:
            continue
        if not 0.0 < q <= 1.0:
            continue
        primary = tag.split("-")[0].lower()
        lang = DEFAULT_LANGUAGE if primary == "*" else ALIASES.get(primary, primary)
        if lang not in LANGUAGES:
            continue
        candidate = (-q, position, lang)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE
