"""Number rules: IBANs, payment cards, IP addresses and phone numbers, each checksum- or
library-validated, plus the numbers that are evidence (dates, prices, barcodes, article numbers)
and must be protected from them."""

from __future__ import annotations

import ipaddress
import re

import phonenumbers

from processors.pii import Span
from processors.pii.phrases import PhraseMatcher

# --- IBAN -----------------------------------------------------------------------------------------

# ISO 13616 lengths of the countries a European tipster is likely to quote (SEPA + neighbours).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BY": 28, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31,
    "NL": 18, "NO": 15, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "XK": 20,
}  # fmt: skip
_IBAN_START = re.compile(r"\b([A-Za-z]{2})(\d{2})(?=[ -]?[A-Za-z0-9])")


def _iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def find_ibans(text: str) -> list[Span]:
    """IBANs, compact or grouped by spaces or dashes, that pass the mod-97 check."""
    spans: list[Span] = []
    for m in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1).upper())
        if length is None:
            continue
        # Walk the characters ourselves: grouping is free-form, and the country length tells
        # where the IBAN ends even when a word follows it on the same line.
        chars = [m.group(1).upper(), m.group(2)]
        n, i = 4, m.end()
        while n < length and i < len(text):
            c = text[i]
            if c.isascii() and c.isalnum():
                chars.append(c.upper())
                n += 1
                i += 1
            elif c in " -" and i + 1 < len(text) and text[i + 1].isalnum() and text[i - 1] != c:
                i += 1
            else:
                break
        if n == length and not (i < len(text) and text[i].isalnum()):
            compact = "".join(chars)
            if _iban_valid(compact):
                spans.append(Span(m.start(), i, "IBAN"))
    return spans


# --- payment cards --------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D")
_CARD = re.compile(r"(?=\d)(?<![\d+-])\d{4}([ -]?)\d{2,7}(?:\1\d{2,7}){1,3}(?![\d-])")


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


# Issuer ranges (first digits) of the card schemes in use in Europe: Visa, Mastercard (51-55,
# 2221-2720), Maestro, Amex, Diners, Discover, JCB, UnionPay, Mir. A Luhn-valid number outside
# them is far more likely a run of years or an order number than a card.
_CARD_RANGES: tuple[tuple[int, int, int], ...] = (
    (1, 4, 4),
    (2, 51, 55),
    (4, 2221, 2720),
    (4, 2200, 2204),
    (2, 34, 34),
    (2, 37, 37),
    (3, 300, 305),
    (2, 36, 36),
    (2, 38, 39),
    (4, 6011, 6011),
    (3, 644, 649),
    (2, 65, 65),
    (4, 3528, 3589),
    (2, 62, 62),
    (2, 50, 50),
    (2, 56, 69),
)


def card_issuer_known(digits: str) -> bool:
    return any(lo <= int(digits[:n]) <= hi for n, lo, hi in _CARD_RANGES)


def gtin_valid(digits: str) -> bool:
    """GS1 check digit (EAN-8, UPC-A, EAN-13, GTIN-14): weights 3,1 from the right."""
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


# "card" in the 31 languages of the site (plus tr/ar) and the scheme names: right after one of
# these, a Luhn-valid number is a card even when its issuer range is not in the table above
# (new ranges, local schemes such as Dankort or Bancontact, or a typo in the first digits).
_CARD_CUE = re.compile(
    r"(?:\b(?:card|cards|karta|kartou|karty|karte|karten|kartë|carte|carta|cartão|cartao|tarjeta"
    r"|kaart|kaard|kort|kortet|kortti|kortin|kártya|kartica|kartice|kortelė|kortelės|cárta"
    r"|cairt|kartá|карта|карти|картка|картичка|κάρτα|kart|kartı|kartı|visa|mastercard|maestro"
    r"|amex|dankort|bancontact|girocard|ec-karte|bankkort|debit|credit|kreditkarte|kreditkort"
    r"|kreditna|kreditní|kredyt\w*)\w{0,6}|بطاقة)"
    r"(?:[\s:#.,-]+[^\s\d]{1,12}){0,3}[\s:#.,-]*$",
    re.IGNORECASE,
)


def _card_cued(text: str, start: int) -> bool:
    return _CARD_CUE.search(text, max(0, start - 40), start) is not None


def find_cards(text: str) -> list[Span]:
    """13-19 digit numbers with a card prefix (or right after "card", "Karte", "karta", ...)
    that pass Luhn and are not a barcode."""
    spans: list[Span] = []
    pos = 0
    while (m := _CARD.search(text, pos)) is not None:
        end = _card_end(text, m)
        if end is None:
            # Not a card from here; one may start at a later group of the same run
            # ("0171 2345678 4111 1111 1111 1111": a phone, then a card).
            pos = m.start() + 1
            continue
        spans.append(Span(m.start(), end, "CARD"))
        pos = end
    return spans


def _card_end(text: str, m: re.Match[str]) -> int | None:
    """Where the card starting at ``m`` ends, or None. The pattern is greedy: a card followed by
    more digit groups ("4111 1111 1111 1111 06 12 34 56 78") is tried group by group, longest first,
    so a phone number right after a card neither hides the card nor is swallowed by it."""
    raw = m.group()
    sep = m.group(1)
    pieces = raw.split(sep) if sep else [raw]
    for n in range(len(pieces), 0, -1):
        candidate = sep.join(pieces[:n])
        if _is_card(text, m.start(), candidate, sep):
            return m.start() + len(candidate)
    return None


def _is_card(text: str, start: int, raw: str, sep: str) -> bool:
    digits = _NON_DIGIT.sub("", raw)
    if not 13 <= len(digits) <= 19 or not _luhn(digits):
        return False
    cued = _card_cued(text, start)
    if not cued and not card_issuer_known(digits):
        return False
    # Cards are printed in groups of four (Amex: 4-6-5); "171 2345678 0171" is not a card.
    groups = [len(g) for g in raw.split(sep)] if sep else []
    if groups and (groups[0] != 4 or any(g not in (4, 5, 6) for g in groups[1:-1])):
        return False
    # A bare 13- or 14-digit run that is also a valid GTIN is a barcode far more often.
    return not (not sep and len(digits) in (13, 14) and gtin_valid(digits) and not cued)


# --- IP addresses ---------------------------------------------------------------------------------

# The lookbehind after the first digit, not before it: a pattern that starts with a digit
# lets the regex engine skip to digits (half the cost on text with few of them).
_IPV4 = re.compile(r"\d(?<![\d.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\d]|\.\d)")
_IPV6 = re.compile(r"(?=[\dA-Fa-f:])(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_VERSION_CUE = re.compile(
    r"(?:\bv|version|versión|versione|wersja|firmware|build|release|ver\.?)\s*$", re.IGNORECASE
)


def find_ips(text: str) -> list[Span]:
    """IPv4 and IPv6 addresses that ``ipaddress`` accepts; version numbers are left alone."""
    spans: list[Span] = []
    if text.count(".") >= 3:
        for m in _IPV4.finditer(text):
            if _VERSION_CUE.search(text, max(0, m.start() - 12), m.start()):
                continue
            try:
                ipaddress.IPv4Address(m.group())
            except ValueError:
                continue
            spans.append(Span(m.start(), m.end(), "IP"))
    if text.count(":") >= 2:
        for m in _IPV6.finditer(text):
            value = m.group()
            # Times ("10:30:00") are not IPv6, but be explicit: a real address has 3+ colons
            # or a "::" compression.
            if value.count(":") < 3 and "::" not in value:
                continue
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                continue
            spans.append(Span(m.start(), m.end(), "IP"))
    return spans


# --- evidence numbers, protected from the phone rule ----------------------------------------------

_DATE = (
    r"\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?:,?\s+\d{1,2}[:.h]\d{2}(?:[:.]\d{2})?)?"
    r"|(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|(?:19|20)\d{2}\s?[-–/]\s?(?:19|20)?\d{2}(?!\d)"
    r"|\d{1,2}:\d{2}(?:\s?[-–]\s?\d{1,2}:\d{2})?"
)
_PRICE = (
    r"(?:[€£$]|EUR|CHF|PLN|zł|Kč|Ft|lei|kr|TL|₺|руб\.?|₽|грн|₴)\s?\d[\d.,\s]*\d"
    r"|\d{1,3}(?:[.,\s]\d{3})*[.,]\d{2}(?!\d)(?:\s?(?:[€£$]|EUR|CHF|PLN|zł|Kč|Ft|lei|kr|TL|₺|руб|₽|грн|₴))?"
)
# Words after which a number is a product, order or receipt reference, not a phone number.
_REFERENCE_CUES = PhraseMatcher(
    (
        "art",
        "art.-nr",
        "artikel",
        "artikelnummer",
        "artikelnr",
        "article",
        "article number",
        "artículo",
        "articolo",
        "artigo",
        "artykuł",
        "item",
        "sku",
        "ean",
        "gtin",
        "upc",
        "isbn",
        "barcode",
        "bar code",
        "strichcode",
        "code-barre",
        "code barre",
        "codice",
        "código",
        "kod",
        "kod kreskowy",
        "barkod",
        "штрихкод",
        "model",
        "modell",
        "modelo",
        "modello",
        "modèle",
        "ref",
        "reference",
        "référence",
        "referenz",
        "order",
        "bestellnummer",
        "bestellung",
        "bestellnr",
        "commande",
        "ordine",
        "pedido",
        "zamówienie",
        "zamówienia",
        "receipt",
        "kassenbon",
        "bon",
        "ticket",
        "paragon",
        "paragonu",
        "invoice",
        "rechnung",
        "facture",
        "fattura",
        "factura",
        "faktura",
        "filiale",
        "store",
        "lot",
        "batch",
        "serial",
        "seriennummer",
        "product",
        "produkt",
        "produit",
        "prodotto",
        "producto",
        "part",
        "teil",
        "typ",
        "type",
        "set",
        "nr",
        "no",
        "číslo",
        "номер заказа",
        "артикул",
        "заказ",
        "чек",
        "sipariş",
        "fiş",
        "version",
        "versión",
        "versione",
        "wersja",
        "firmware",
    ),
    r"\.?(?:[\s-]*(?:nr|no|nummer|number|numéro|numero|n°|#|\.|:))*[\s:#.]*",
)
_REFERENCE = re.compile(r"[A-Za-z]*\d[\w./-]*(?:\s\d[\d./-]*)*")
# Every pattern here opens with a lookahead on its possible first characters: the regex engine
# then skips most positions at once, which made this scan two to three times faster.
_PROTECTED = re.compile(
    r"(?=[\d€£$₺₽₴EUCPzKFlkTрг])(?:"
    rf"(?<![\w+])(?<!\d[./,-])(?:{_DATE}|{_PRICE})(?![\w]|[./-]\d)"
    r"|(?<![\w+\-./])(?<!\d\s)(?P<gtin>\d{12,14})(?![\w\-/]|[.,]\d|\s\d)"
    # IKEA-style article numbers ("802.123.45") are quoted constantly in tips about furniture.
    r"|(?<![\w.])\d{3}\.\d{3}\.\d{2}(?![\w.]\d?))"
)
# Contact words in the site's 31 languages (plus tr/ar), matched as word prefixes; up to six
# short words may stand between the word and the number ("my mobile, if you need it, is …").
_PHONE_CUE = re.compile(
    r"\b(?:tel|phone|call|ring|mobil|handy|cell|whatsapp|signal|telegram|nummer|number|numer"
    r"|número|numéro|numero|telefon|téléphone|telefono|teléfono|telemóvel|zadzwo|dzwoni"
    r"|bel\b|bellen|ruf|appel|chiam|llam|lig|sun|zavolej|arayabilir|тел|звон|номер|дзвон|رقم"
    r"|τηλ|κινητ|κάλεσ|sím|farsím|hringdu|gsm|portable|komórk|celular|móvil|movil|moveis"
    r"|puhelin|kännyk|soita|mobiil|helista|tālr|zvani|telefonas|skambin|mobitel|nazovi|pokliči"
    r"|sunaj|fón|fon\b|guthán|fòn|numru|mowbajl|ċempel|моб|звани|јави|мобилн|kontakt|contact"
    r"|erreech|uruf|ring\b|ringe|ringja|hring|numri|număr|telef)"
    r"[\w.]*(?:[\s:.,]+[^\s\d]{1,8}){0,6}[\s:.,(]*$",
    re.IGNORECASE,
)
# How far before a number a contact word is looked for.
_CUE_REACH = 60


def find_protected_numbers(text: str) -> list[Span]:
    """Dates, times, prices, year ranges, barcodes and cued article/order numbers: kept as is."""
    spans: list[Span] = []
    for m in _PROTECTED.finditer(text):
        if m.group("gtin") is not None:
            digits = m.group("gtin")
            before = text[max(0, m.start() - 24) : m.start()]
            # A bare barcode-length run is protected only if it is a valid GTIN and no phone
            # cue ("Tel.") precedes it.
            if digits.startswith("00") or not gtin_valid(digits) or _PHONE_CUE.search(before):
                continue
        spans.append(Span(m.start(), m.end(), None))
    for cue in _REFERENCE_CUES.finditer(text):
        ref = _REFERENCE.match(text, cue.end())
        if ref is None:
            continue
        if _PHONE_CUE.search(text, max(0, cue.start() - 24), cue.start()):
            continue  # "Tel. no. 0171 ...": the cue word belongs to a phone number
        if _card_cued(text, cue.start()):
            continue  # "karta nr 9100 ...": a card number, not an article number
        spans.append(Span(ref.start(), ref.end(), None))
    return spans


# --- phone numbers --------------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?=[\d+(])(?<![\w+@/.,-])(?:\+\s?|\(\s?\+?|00)?\d"
    r"(?:(?:[ \u00a0./\-–]|\s?\(\s?|\s?\)\s?|\s/\s){0,3}\d){6,34}(?!(?![xX]\d)[\w:]|[.,]\d)"
)
# An extension after the number belongs to it: "x4587", "ext. 12", "Durchwahl 34", "poste 5".
_EXTENSION = re.compile(
    r"[ \u00a0]*(?:,[ \u00a0]*)?(?:x|ext|extn|extension|durchwahl|dw|app|poste|int|interno"
    r"|interne|wew|lok|linka|klapka|kl|anexo|ramal|lisä|doorkies|toestel|вн|доб|внутр)\.?"
    r"[ \u00a0:.]*\d{1,6}(?![\w])",
    re.IGNORECASE,
)
# Regions whose national formats a tip is likely to use, commonest tip origins first: the
# first region that validates a national number wins.
_NATIONAL_REGIONS = (
    "DE", "AT", "CH", "FR", "BE", "NL", "LU", "GB", "IE", "IT", "ES", "PT", "PL", "CZ", "SK",
    "SI", "HR", "HU", "RO", "BG", "GR", "CY", "MT", "DK", "SE", "FI", "EE", "LV", "LT", "NO",
    "RU", "UA", "BY", "TR", "RS", "BA", "AE", "SA", "EG", "MA", "US", "CA", "IS", "MK", "AL",
    "ME", "XK", "MD",
)  # fmt: skip


# North American numbers are written without their trunk "1" far more often than with it
# ("416-555-0199", "(212)555-0143").
_OPTIONAL_TRUNK = frozenset({"US", "CA"})


def _national_rules() -> tuple[tuple[str, int, re.Pattern[str] | None, re.Pattern[str]], ...]:
    """(region, country code, trunk-prefix pattern, general number pattern) from
    libphonenumber's metadata.

    ``phonenumbers.parse`` costs ~25 µs; trying forty regions per candidate would eat the whole
    budget. The general pattern is a cheap superset test, so only plausible regions get parsed.
    Building this at import also loads the lazy metadata once, not during the first tip.
    """
    rules = []
    for region in _NATIONAL_REGIONS:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.general_desc is None:
            continue
        general = meta.general_desc.national_number_pattern
        if general is None:
            continue
        prefix = meta.national_prefix_for_parsing
        trunk = re.compile(prefix) if prefix else None
        rules.append((region, int(meta.country_code or 0), trunk, re.compile(general)))
    return tuple(rules)


_NATIONAL = _national_rules()


def _valid_national(candidate: str, digits: str) -> bool:
    for region, code, trunk, general in _NATIONAL:
        nsn = digits
        if trunk is not None:
            m = trunk.match(digits)
            if m is not None:
                nsn = digits[m.end() :]
            elif region not in _OPTIONAL_TRUNK:
                continue  # a national number in a trunk-prefix country is written with it
        if not general.fullmatch(nsn):
            continue
        # Build the number directly instead of parsing the text again for this region.
        zeros = len(nsn) - len(nsn.lstrip("0"))
        number = phonenumbers.PhoneNumber(
            country_code=code,
            national_number=int(nsn),
            italian_leading_zero=zeros > 0 or None,
            number_of_leading_zeros=zeros if zeros > 1 else None,
        )
        if phonenumbers.is_valid_number_for_region(number, region):
            return True
    return False


_YEARS_ONLY = re.compile(r"(?:(?:19|20)\d{2}[\s,./–-]*)+")


def _is_phone(candidate: str, cued: bool) -> bool:
    digits = _NON_DIGIT.sub("", candidate)
    if not 7 <= len(digits) <= 15 + 1:  # +1: an optional "(0)" trunk digit
        return False
    if _YEARS_ONLY.fullmatch(candidate):
        return False  # "2019 2020", "1998-2004": years, however many
    international = candidate.lstrip("( ").startswith("+") or digits.startswith("00")
    if international:
        value = "+" + digits[2:] if digits.startswith("00") else candidate
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            return False
        # With an explicit country code a "possible" number is enough: few other things in a
        # tip look like "+49 ...".
        return bool(phonenumbers.is_possible_number(number))
    # A bare run of digits without a trunk prefix ("20120612", "12345678") is an article or
    # order number at least as often as a phone number: only a cue makes it one.
    if digits == candidate and not digits.startswith("0") and not cued:
        return False
    if _valid_national(candidate, digits):
        return True
    # After "Tel." or "call me on", accept any plausible length even if no region validates it
    # (new number ranges, typos): missing a phone number costs more than an extra mask.
    return cued and 8 <= len(digits) <= 13


_TRAILING_YEAR = re.compile(r"\s+(?:19[5-9]|20[0-4])\d$")


def _strictly_valid(candidate: str) -> bool:
    digits = _NON_DIGIT.sub("", candidate)
    if candidate.lstrip("( ").startswith("+") or digits.startswith("00"):
        value = "+" + digits[2:] if digits.startswith("00") else candidate
        try:
            return bool(phonenumbers.is_valid_number(phonenumbers.parse(value, None)))
        except phonenumbers.NumberParseException:
            return False
    return _valid_national(candidate, digits)


def find_phones(text: str) -> list[Span]:
    """International and national phone numbers with spaces, dots, dashes or parentheses."""
    spans: list[Span] = []
    for m in _PHONE.finditer(text):
        start, end = m.start(), m.end()
        candidate = m.group()
        # The pattern may grab an unbalanced closing bracket; keep the span to the digits.
        if candidate.count(")") > candidate.count("("):
            while candidate and not candidate[-1].isdigit():
                candidate, end = candidate[:-1], end - 1
        cued = _PHONE_CUE.search(text, max(0, start - _CUE_REACH), start) is not None
        # "+49 171 2345678 2019 Lidl": a year after a number is evidence, not more digits —
        # but only when the number without it is still a *valid* one, so no digit leaks.
        year = _TRAILING_YEAR.search(candidate)
        if year and _strictly_valid(candidate[: year.start()]):
            candidate, end = candidate[: year.start()], start + year.start()
        if _is_phone(candidate, cued):
            ext = _EXTENSION.match(text, end)
            spans.append(Span(start, ext.end() if ext else end, "PHONE"))
        elif " " in candidate:
            spans.extend(_split_phones(candidate, start, cued))
    return spans


_CHUNK = re.compile(r"\S+")
_YEAR_CHUNK = re.compile(r"(?:19[5-9]|20[0-4])\d")


def _split_phones(candidate: str, offset: int, cued: bool) -> list[Span]:
    """Two numbers in a row ("0171 2345678 0664 1234567") read as one invalid candidate: split
    it at spaces into valid numbers so that as many chunks as possible are covered (a greedy
    longest-first split can swallow the first chunk of the next number).

    Years earn no coverage and, on a tie, a split that leaves them alone wins: a year next to
    a number is evidence ("+49 171 2345678 2019 0171 2345678", "… 06 12 34 56 78 2019"),
    and some year-plus-digits runs are valid numbers somewhere ("2019 0171" in North
    Macedonia)."""
    chunks = [(m.start(), m.end()) for m in _CHUNK.finditer(candidate)][:24]
    n = len(chunks)
    year = [_YEAR_CHUNK.fullmatch(candidate, a, b) is not None for a, b in chunks]
    # best[i]: (non-year chunks covered, -numbers used, -years covered, spans) for chunks[i:]
    best: list[tuple[int, int, int, list[Span]]] = [(0, 0, 0, [])] * (n + 1)
    for i in range(n - 1, -1, -1):
        choice = best[i + 1]
        if year[i]:
            best[i] = choice  # a number does not start with a year
            continue
        for j in range(i + 1, min(n, i + 8) + 1):  # no number has more than eight groups
            sub = candidate[chunks[i][0] : chunks[j - 1][1]]
            if sum(c.isdigit() for c in sub) < 7 or not _is_phone(sub, cued):
                continue
            covered, used, years, spans = best[j]
            in_years = sum(year[i:j])
            span = Span(offset + chunks[i][0], offset + chunks[j - 1][1], "PHONE")
            option = (covered + j - i - in_years, used - 1, years - in_years, [span, *spans])
            if option[:3] > choice[:3]:
                choice = option
        best[i] = choice
    return best[0][3]


_SEVEN_DIGITS = re.compile(r"\d(?:\D{0,4}\d){6}")


def has_long_number(text: str) -> bool:
    """Cheap pre-check: seven digits with short gaps, the least any number rule accepts."""
    return _SEVEN_DIGITS.search(text) is not None
