"""Self-identification rules: the tipster's own name ("my name is …", a signature under a
closing) and own street address ("I live at …"), in the 24 EU languages plus ru, uk, tr and ar.

Only names the tipster gives as their own are masked: a shop owner or a salesperson named as part
of the lead is evidence and stays. The rules are trigger-based on purpose; a name recogniser
without a trigger cannot tell a tipster from a brand, a town or a third party.
"""

from __future__ import annotations

import re
from functools import lru_cache

from processors.pii import Span
from processors.pii.phrases import PhraseMatcher

_TABLE_LABEL = re.compile(r"\s*(?:all|[a-z]{2}(?:, [a-z]{2})*): ")


def _phrases_by_language(table: str) -> dict[str, tuple[str, ...]]:
    """The same table, kept apart per language ("all" lines under "all")."""
    by_language: dict[str, list[str]] = {}
    labels = ["all"]
    for line in table.splitlines():
        label = _TABLE_LABEL.match(line)
        if label:
            labels = [x.strip() for x in label.group().strip().rstrip(":").split(",")]
        rest = line[label.end() :] if label else line
        for lang in labels:
            by_language.setdefault(lang, []).extend(
                p.strip() for p in rest.split(" | ") if p.strip()
            )
    return {lang: tuple(phrases) for lang, phrases in by_language.items()}


def _phrases(table: str) -> tuple[str, ...]:
    """Read a phrase table: one or more lines per language, "xx: phrase | phrase | …"."""
    phrases: list[str] = []
    for line in table.splitlines():
        label = _TABLE_LABEL.match(line)
        rest = line[label.end() :] if label else line
        phrases.extend(p.strip() for p in rest.split(" | ") if p.strip())
    return tuple(phrases)


# --- triggers -------------------------------------------------------------------------------------

# Phrases after which a name follows, whatever its case ("my name is kevin").
_INTRO_STRONG = _phrases(
    """
    en: my name is | my name's | my full name is | my names is | i am called | i'm called
        i’m called | name's
    de: ich heiße | ich heisse | ich hei[ßs]e | mein name ist | mein name lautet
        mein vorname ist | heiße | heisse
    fr: je m'appelle | je m’appelle | je m appelle | mon nom est | mon nom c'est | mon prénom est
        je me nomme | moi c'est | moi c’est
    it: mi chiamo | il mio nome è | il mio nome e' | mio nome è
    es: me llamo | mi nombre es | yo me llamo
    pt: chamo-me | eu me chamo | me chamo | o meu nome é | meu nome é | o meu nome e
    nl: mijn naam is | ik heet | mijn voornaam is
    pl: nazywam się | nazywam sie | mam na imię | mam na imie | moje imię to | moje imie to
        moje nazwisko to
    cs, sk: jmenuji se | jmenuju se | mé jméno je | moje jméno je | volám sa | menujem sa
        moje meno je | volam sa
    sl, hr: ime mi je | moje ime je | pišem se | zovem se | kličem se
    bg: казвам се | името ми е | моето име е
    ro: mă numesc | ma numesc | mă cheamă | ma cheama | numele meu este | numele meu e
    hu: a nevem | nevem
    fi, et: nimeni on | minun nimeni on | minu nimi on | mu nimi on | minu nimi
    lv, lt: mani sauc | mans vārds ir | mans vards ir | mano vardas yra | mano vardas | mane vadina
    sv, da: jag heter | mitt namn är | mitt namn ar | jeg hedder | mit navn er
    el: με λένε | με λενε | ονομάζομαι | ονομαζομαι | το όνομά μου είναι | λέγομαι
    ga, mt: is mise | m'ainm is | m’ainm is | jien jisimni | jisimni | ismi
    ru, uk: меня зовут | моё имя | мое имя | моя фамилия | мене звати | мене звуть | моє ім'я
        моє ім’я | моє імя
    tr: benim adım | benim adim | adım | ismim | benim ismim
    ar: اسمي | إسمي | أنا اسمي | انا اسمي
    is: ég heiti | eg heiti | ég heit | nafn mitt er | nafnið mitt er | ég kalla mig
    nb, nn: jeg heter | eg heiter | eg heitar | mitt navn er | navnet mitt er | namnet mitt er
        mitt namn er
    mk: јас се викам | се викам | моето име е | името ми е | jas se vikam | se vikam
    lb: ech heeschen | ech heesche | mäin numm ass | mäi numm ass | mein numm ass
    ga, gd: is e an t-ainm a th' orm | is e m' ainm
        ainm dom | is ainm dom
    """
)
# "I'm Anna": weak, because "I'm sure" and "ich bin Österreicherin" look the same; accepted
# only for a capitalised name that ends the clause or comes after a greeting.
_WEAK_TABLE = """
    en: i'm | i’m | i am | this is | here is
    de: ich bin | hier ist | hier spricht
    fr: je suis | ici c'est
    it: sono
    es: soy | aquí
    pl: jestem | tu
    nl: ik ben | hier is
    pt: sou | eu sou
    cs, sk: jsem | som
    sl, hr: sem | ja sam | sam
    bg: аз съм
    ro: eu sunt | sunt
    fi, et: olen | mina olen | ma olen
    lv, lt: es esmu | aš esu
    sv, da: jag är | jeg er
    el: είμαι
    mt: jien
    ru, uk: я | это
    tr: ben
    ar: أنا | انا
    is: ég er | eg er
    nb, nn: jeg er | eg er
    mk: јас сум | jas sum
    lb: ech sinn | hei ass
"""
_INTRO_WEAK = _phrases(_WEAK_TABLE)
_GREETING = re.compile(
    r"(?:hi|hello|hey|dear|hallo|guten tag|servus|moin|bonjour|salut|ciao|salve|buongiorno|hola"
    r"|buenos días|olá|bom dia|cześć|dzień dobry|witam|hoi|goedendag|dobrý den|ahoj|dobrý deň"
    r"|zdravo|pozdrav|здравейте|bună|buna ziua|jó napot|szia|hei|moi|tere|labdien|sveiki"
    r"|labas|hej|god dag|γεια σας|γεια|dia duit|bongu|привет|здравствуйте|добрий день|вітаю"
    r"|merhaba|selam|مرحبا|السلام عليكم|halló|góðan dag|sæl|sæll|hæ|hallo|god dag|moien"
    r"|gudde moien|здраво|добар ден|halò|latha math|dia dhuit)\b[\s,!.]*$",
    re.IGNORECASE,
)
_AFTER_WEAK = re.compile(
    r"\s*(?:[,.!;:)]|$|\n|\s(?:from|aus|de|da|di|z|ze|iz|из|з|van|by the way|here|hier|ici"
    r"|speaking|am apparat|und|and|et|e|y|i|en|ve|och|og|ja)\b)",
    re.IGNORECASE,
)
# Form fields at the start of a line or sentence: "Name: …", "Nom : …".
_LABELS = _phrases(
    """
    all: name | full name | your name | vorname | nachname | vor- und nachname | nom | prénom
        nom et prénom | nome | nome e cognome | cognome | nombre | nombre y apellidos | apellidos
        imię | imię i nazwisko | nazwisko | naam | voornaam | achternaam | jméno | příjmení
        meno | ime | ime i prezime | име | nume | prenume | név | nimi | vārds | vardas | namn
        navn | όνομα | ainm | isem | имя | фио | ім'я | ім’я | прізвище | isim | ad | ad soyad
        adı soyadı | الاسم | sender | absender | expéditeur | mittente | nafn | fullt nafn
        numm | virnumm | familljennumm | fullt navn | fornavn | etternavn | førenamn | etternamn
        презиме | име и презиме
    """
)


def _alternation(phrases: tuple[str, ...]) -> str:
    # Longest first, so "my full name is" wins over a shorter prefix; spaces match any run.
    ordered = sorted(set(phrases), key=len, reverse=True)
    return "|".join(p.replace(" ", r"\s+") for p in ordered)


_STRONG = PhraseMatcher(_INTRO_STRONG, r"[\s:,–-]*")
_WEAK = PhraseMatcher(_INTRO_WEAK, r"\s+")
_WEAK_BY_LANGUAGE = _phrases_by_language(_WEAK_TABLE)


@lru_cache(maxsize=64)
def _weak_for(language: str) -> PhraseMatcher:
    """The weak introductions of the tip's language (and English, which tipsters mix in).

    "sam", "tu", "sunt", "ben", "я" are ordinary words in other languages; with the language
    known, only its own weak phrases are tried. Unknown language: all of them, as before."""
    own = _WEAK_BY_LANGUAGE.get(language)
    if own is None:
        return _WEAK
    return PhraseMatcher(own + _WEAK_BY_LANGUAGE["en"], r"\s+")


_LABEL = PhraseMatcher(_LABELS, r"[ \t]*[:=][ \t]*")


def _at_clause_start(text: str, pos: int) -> bool:
    """True at the start of the text, of a line, or of a sentence."""
    before = text[max(0, pos - 3) : pos].rstrip(" \t")
    return not before or before[-1] in "\n.!?"


# --- name shape -----------------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W\d_](?:[\w'’-]*[^\W\d_])?")
_PARTICLES = frozenset(
    {
        "von", "van", "der", "den", "de", "del", "della", "di", "da", "du", "le", "la", "dos",
        "das", "ter", "ten", "mac", "mc", "bin", "ibn", "al", "el", "zu", "y", "ó", "ní", "nic",
    }
)  # fmt: skip
_TITLES = frozenset(
    {
        "dr", "prof", "mr", "mrs", "ms", "miss", "herr", "frau", "pan", "pani", "m", "mme",
        "mlle", "sig", "sr", "sra", "dott", "ing", "mgr", "bc", "dhr", "mevr", "г-н", "г-жа",
    }
)  # fmt: skip
# Words that, right after a trigger, show that no name follows ("my name is not important").
_NOT_NAMES = frozenset(
    {
        "not", "nicht", "pas", "non", "no", "nie", "niet", "не", "ні", "irrelevant", "unimportant",
        "anonymous", "anonym", "anonyme", "anonimo", "anónimo", "anonimowy", "anonimowa", "egal",
        "unwichtig", "sure", "sicher", "sûr", "sûre", "sicuro", "seguro", "segura", "pewien",
        "pewna", "zeker", "german", "polish", "french", "british", "english", "deutsch",
        "österreicher", "österreicherin", "deutscher", "deutsche", "schweizer", "polak", "polka",
        "français", "française", "italiano", "italiana", "español", "española", "sorry",
        "afraid", "the", "a", "an", "der", "die", "das", "ein", "eine", "le", "la", "un", "une",
        "il", "lo", "el", "los", "las", "mother", "mum", "mom", "father", "dad", "mutter",
        "vater", "mama", "papa", "maman", "mamma", "madre", "padre", "matka", "ojciec", "also",
        "auch", "aussi", "anche", "también", "też", "ook", "here", "hier", "ici", "qui", "aquí",
        "tutaj", "it", "es", "this", "that", "unknown", "[person]",
    }
)  # fmt: skip
# Words that end a lower-case name ("my name is kevin and i …").
_CONNECTORS = frozenset(
    {
        "and", "und", "et", "e", "y", "i", "a", "en", "og", "och", "ja", "ve", "и", "і", "та",
        "а", "but", "aber", "mais", "ma", "pero", "ale", "maar", "men", "mutta", "from", "aus",
        "z", "из", "з", "ich", "je", "io", "yo", "я", "ben", "the", "is", "was", "im", "in",
        "with", "mit", "avec", "con", "by", "sono", "soy", "jestem", "ik", "jag",
        "jeg", "eu", "bin", "habe", "have", "had", "i'm", "ho", "he", "vi", "saw", "seen",
        "sah", "vu", "visto", "widziałem", "widziałam", "wohne", "live", "vivo", "abito",
        "mieszkam", "woon", "and,", "so", "also", "too", "here", "hier", "da", "و", "في",
        "من", "وأنا", "أنا", "ولقد", "وقد", "لقد", "رأيت", "وجدت",
    }
)  # fmt: skip


def _is_capitalised(token: str) -> bool:
    first = token[0]
    return first.isupper() or not first.islower()  # caseless scripts (Arabic) count as names


def _is_caseless(token: str) -> bool:
    return not token[0].isupper() and not token[0].islower()


def scan_name(text: str, pos: int, *, allow_lower: bool, max_tokens: int = 4) -> tuple[int, int]:
    """Return ``(start, end)`` of the name starting at ``pos`` (``start == end``: no name).

    Capitalised mode takes capitalised tokens and inner particles ("Pieter van Dijk"); lower-case
    mode (only after a strong trigger) takes up to two tokens and stops at a connector word.
    """
    # Skip opening quotes and a title ("Dr. Michael Berger": the title is not identifying).
    while pos < len(text) and text[pos] in "\"'«»„“”‚‘’ \t":
        pos += 1
    m = _TOKEN.match(text, pos)
    while m and m.group().lower().rstrip(".") in _TITLES and m.group() not in ("M",):
        nxt = m.end() + (1 if text[m.end() : m.end() + 1] == "." else 0)
        while nxt < len(text) and text[nxt] in " \t":
            nxt += 1
        m2 = _TOKEN.match(text, nxt)
        if not m2 or not _is_capitalised(m2.group()):
            break
        pos, m = nxt, m2
    if not m:
        return pos, pos
    first = m.group()
    if first.lower() in _NOT_NAMES:
        return pos, pos
    capital = _is_capitalised(first)
    if not capital and not allow_lower:
        return pos, pos
    caseless = _is_caseless(first)
    limit = 2 if (caseless or not capital) else max_tokens
    end, count, i = m.end(), 1, m.end()
    pending_particles = 0
    while count + pending_particles < limit + 2:
        # Tokens are separated by exactly one space: a line break or punctuation ends the name.
        if i >= len(text) or text[i] not in " \u00a0":
            break
        nm = _TOKEN.match(text, i + 1)
        if not nm:
            break
        token = nm.group()
        low = token.lower()
        if capital and not caseless:
            if low in _PARTICLES and not token[0].isupper():
                pending_particles += 1
                i = nm.end()
                continue
            if not token[0].isupper() or low in _NOT_NAMES or low in _CONNECTORS:
                break
        elif low in _CONNECTORS or low in _NOT_NAMES or (caseless and token.startswith("و")):
            break
        if count >= limit:
            break
        end, count, pending_particles, i = nm.end(), count + 1, 0, nm.end()
    return pos, end


def find_self_names(text: str, language: str = "und") -> list[Span]:
    """Names the tipster gives as their own: after an introduction or a form label. With the
    tip's language known, the weak introductions ("I'm …") are that language's only."""
    spans: list[Span] = []
    for m in _STRONG.finditer(text):
        start, end = scan_name(text, m.end(), allow_lower=True)
        if end > start:
            spans.append(Span(start, end, "PERSON"))
    for m in _LABEL.finditer(text):
        if not _at_clause_start(text, m.start()):
            continue
        start, end = scan_name(text, m.end(), allow_lower=True)
        if end > start:
            spans.append(Span(start, end, "PERSON"))
    for m in _weak_for(language).finditer(text):
        start, end = scan_name(text, m.end(), allow_lower=False, max_tokens=3)
        if end <= start or (_is_caseless(text[start]) and not _GREETING.search(text, 0, m.start())):
            continue
        greeted = _GREETING.search(text, max(0, m.start() - 40), m.start()) is not None
        line_start = m.start() == 0 or text[m.start() - 1] == "\n"
        clause_end = _AFTER_WEAK.match(text, end) is not None
        if clause_end and (
            greeted or line_start or text[max(0, m.start() - 2) : m.start()] in (". ", "! ", ", ")
        ):
            spans.append(Span(start, end, "PERSON"))
    return spans


# --- signatures -----------------------------------------------------------------------------------

_CLOSINGS = _phrases(
    """
    en: regards | kind regards | best regards | warm regards | best wishes | best | cheers
        thanks | thank you | many thanks | sincerely | yours sincerely | yours faithfully | yours
        signed | take care | all the best
    de: viele grüße | viele grüsse | liebe grüße | liebe grüsse | beste grüße
        mit freundlichen grüßen | mit freundlichen grüssen | freundliche grüße | grüße | gruß
        grüsse | lg | mfg | vg | danke | herzliche grüße | servus
    fr: cordialement | bien cordialement | bien à vous | salutations | merci | bonne journée
        amicalement | bises
    it: cordiali saluti | distinti saluti | saluti | un saluto | grazie | a presto
    es, pt: saludos | un saludo | atentamente | gracias | saludos cordiales | cumprimentos
        atenciosamente | obrigado | obrigada | abraço | beijinhos
    pl: pozdrawiam | z poważaniem | pozdrowienia | dziękuję | dzięki | serdecznie
    nl: met vriendelijke groet | vriendelijke groet | groetjes | groeten | mvg | bedankt
    cs, sk, sl, hr: s pozdravem | s pozdravom | děkuji | ďakujem | lep pozdrav | lp
        srdačan pozdrav | lijep pozdrav | pozdrav | hvala | srdečne
    bg, ro, hu: поздрави | с уважение | благодаря | cu stimă | cu stima | mulțumesc | multumesc
        toate cele bune | üdvözlettel | köszönöm | tisztelettel
    fi, et, lv, lt: ystävällisin terveisin | terveisin | kiitos | lugupidamisega
        parimate soovidega | tervitades | aitäh | ar cieņu | paldies | pagarbiai | su pagarba | ačiū
    sv, da: med vänliga hälsningar | vänliga hälsningar | hälsningar | mvh | tack
        med venlig hilsen | venlig hilsen | hilsen | tak
    el, ga, mt: με εκτίμηση | φιλικά | ευχαριστώ | le meas | go raibh maith agat | grazzi
        dejjem tiegħek | sahha
    ru, uk, tr, ar: с уважением | спасибо | всего доброго | з повагою | дякую | saygılarımla
        saygilarimla | teşekkürler | selamlar | iyi günler | مع التحية | مع خالص التحية | تحياتي
        شكرا | وشكرا
    is, nb, nn: kveðja | bestu kveðjur | með kveðju | kær kveðja | takk fyrir | med vennlig hilsen
        vennlig hilsen | venleg helsing | helsing | beste hilsen | takk
    mk, lb, gd: со почит | поздрав | благодарам | мат beschte gréiss | mat beschte gréiss
        beschte gréiss | gréiss | merci villmools | le dùrachd | tapadh leibh | tapadh leat
    """
)
_CLOSING = PhraseMatcher(_CLOSINGS, r"[^\S\n]*")


def _closings(text: str) -> list[tuple[int, int]]:
    """``(end of closing phrase, end of its line)`` for each closing that starts a line (after
    at most a few words) or follows a sentence on it ("… gekauft. Mit freundlichen Grüßen")."""
    found: list[tuple[int, int]] = []
    for m in _CLOSING.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end == -1 else line_end
        prefix = text[line_start : m.start()].strip()
        if (len(prefix) > 25 and prefix[-1] not in ".!?") or line_end - m.end() > 50:
            continue
        found.append((m.end(), line_end))
    return found


_SIG_DELIMITER = re.compile(r"^[^\S\n]*--+[^\S\n]*$", re.MULTILINE)
_SIG_LEAD = " \t-–—~*_,"


def _name_line(text: str, start: int, end: int) -> Span | None:
    """A whole line (or its first "|"/","-separated part) that is nothing but a name."""
    while start < end and text[start] in _SIG_LEAD:
        start += 1
    cut = end
    for sep in ("|", ",", " - ", " – ", "/", "\t"):
        k = text.find(sep, start, end)
        if k != -1:
            cut = min(cut, k)
    segment = text[start:cut].rstrip(" .!")
    if not segment or len(segment) > 45 or any(c.isdigit() for c in segment):
        return None
    name_start, name_end = scan_name(text, start, allow_lower=False)
    if name_end <= name_start or name_end < start + len(segment):
        return None
    return Span(name_start, name_end, "PERSON")


def find_signatures(text: str) -> list[Span]:
    """Names signed under a closing ("Regards,\\nAnna"), after it ("Pozdrawiam, Jan Kowalski")
    or under a ``--`` delimiter, plus a street line inside that signature block."""
    if "\n" not in text and "," not in text:
        return []
    spans: list[Span] = []
    closings = _closings(text)
    closing_lines = {text.rfind("\n", 0, end) + 1 for end, _ in closings}
    anchors: set[int] = set()
    for phrase_end, line_end in closings:
        k = phrase_end
        while k < line_end and text[k] in " ,!.:;-–":
            k += 1
        # An inline name must be the whole rest of the line: "Groetjes, Femke".
        span = _name_line(text, k, line_end) if k < line_end else None
        if span is not None:
            spans.append(span)
        else:
            anchors.add(line_end)
    anchors.update(m.end() for m in _SIG_DELIMITER.finditer(text))
    for anchor in sorted(anchors):
        pos, found, looked = anchor, 0, 0
        while pos < len(text) and looked < 4:
            line_start = pos + 1 if text[pos] == "\n" else pos
            line_end = text.find("\n", line_start)
            line_end = len(text) if line_end == -1 else line_end
            pos = line_end
            if not text[line_start:line_end].strip():
                continue
            looked += 1
            if _SIG_DELIMITER.match(text, line_start, line_end):
                continue
            if line_start in closing_lines:
                break  # a second closing is an anchor of its own, not a name
            span = _name_line(text, line_start, line_end)
            if span is not None and found < 2:
                spans.append(span)
                found += 1
                continue
            street = _STREET_LINE.match(text, line_start, line_end)
            if street and found:
                spans.append(Span(street.start("addr"), street.end("addr"), "ADDRESS"))
            elif not found:
                break  # the closing is not followed by a name: not a signature
    return spans


# --- own street address ---------------------------------------------------------------------------

_STREET_WORDS = (
    r"\w*(?:straße|strasse|str\.|gasse|weg|allee|platz|ring|damm|ufer|street|st\.|road|rd\.|"
    r"avenue|ave\.|lane|drive|close|way|straat|laan|gracht|plein|dijk|kade|vej|gade|gatan|vägen"
    r"|gata|tie|katu|iela|gatvė|utca|út|ulica|ulice|cesta|ul\.|rue|via|viale|piazza|corso|calle"
    r"|avenida|rua|praça|travessa|strada|bulevardul|bd\.|sokak|sokağı|caddesi|cad\.|ул\.|улица"
    r"|вул\.|вулиця|проспект|пр\.|οδός)"
)
_STREET_LINE = re.compile(
    rf"[^\S\n]*(?P<addr>(?:\d{{1,4}}[a-z]?,?\s+)?(?:[^\W\d_][\w.'’-]*\s){{0,3}}{_STREET_WORDS}"
    rf"(?:\s[^\W\d_][\w.'’-]*){{0,3}}(?:,?\s*\d{{1,4}}[a-z]?(?:\s?[/-]\s?\d{{1,4}})?)?)[^\S\n]*$",
    re.IGNORECASE,
)
_LIVE = _phrases(
    """
    all: i live at | i live on | i live in | we live at | my address is | my home address is
        i'm at | ich wohne in der | ich wohne in | ich wohne am | ich wohne im | ich wohne an der
        ich wohne auf der | wohne in der | wohne am | ich wohne | meine adresse ist
        meine adresse lautet | meine anschrift | j'habite au | j'habite à | j'habite | j’habite
        mon adresse est | mon adresse : | abito in | abito a | abito al | vivo in
        il mio indirizzo è | vivo en la | vivo en el | vivo en | mi dirección es
        mi domicilio es | mieszkam przy | mieszkam na | mieszkam w | mój adres to | mój adres:
        ik woon op de | ik woon aan de | ik woon op | ik woon aan | ik woon in de | ik woon in
        mijn adres is | moro na | moro em | moro no | vivo na | a minha morada é | bydlím v
        bydlím na | bydlím | bývam na | bývam v | živim na | živim v | živim u | stanujem u
        stanujem na | живея на | locuiesc pe | locuiesc în | lakom | asun | elan | dzīvoju
        gyvenu | jag bor på | jag bor i | jeg bor på | jeg bor i | μένω στην | μένω στο | μένω
        я живу по адресу | я живу на | я живу в | я живу | мой адрес | мій адреса | моя адреса
        я живу за адресою | adresim | oturuyorum | عنواني | أسكن في | ég bý á | ég bý í | ég bý
        heimilisfangið mitt er | eg bur på | eg bur i | eg bur | jeg bor | adressa mi er
        adressen min er | живеам на | живеам во | мојата адреса е | ech wunnen an der
        ech wunnen zu | ech wunnen | meng adress ass | tha mi a' fuireach aig
        tá mé i mo chónaí ag | is é mo sheoladh
    """
)
_LIVE_RE = PhraseMatcher(_LIVE, r"[\s:]*")
_HOUSE_NUMBER = re.compile(r"\d{1,4}(?:\s?[a-zA-Z](?!\w))?(?:\s?[/-]\s?\d{1,4}[a-zA-Z]?)?")
_YEAR = re.compile(r"(?:19|20)\d{2}")
# Abbreviations whose dot does not end an address: "ul. Długiej 5", "ул. Ленина, д. 5".
_ABBREVIATIONS = frozenset(
    {
        "ul", "al", "pl", "os", "str", "st", "rd", "ave", "av", "bd", "blvd", "nr", "no", "cad",
        "sok", "ул", "д", "кв", "пр", "вул", "буд", "g", "c", "v", "n", "apt", "wg", "top",
    }
)  # fmt: skip


def _sentence_end(text: str, start: int, limit: int) -> int:
    """End of the clause from ``start``; the dot of an abbreviation ("ul.") does not end it."""
    i = start
    while i < limit:
        c = text[i]
        if c in "\n!?;":
            return i
        if c == ".":
            word = text[max(start, i - 4) : i].rsplit(" ", maxsplit=1)[-1].lower()
            decimal = i + 1 < limit and text[i + 1].isdigit()
            if word not in _ABBREVIATIONS and not decimal:
                return i
        i += 1
    return limit


def find_addresses(text: str) -> list[Span]:
    """The tipster's own street and house number, after "I live at", "ich wohne in der", …"""
    spans: list[Span] = []
    for m in _LIVE_RE.finditer(text):
        start = m.end()
        stop = _sentence_end(text, start, min(len(text), start + 80))
        clause = text[start:stop]
        number = _HOUSE_NUMBER.search(clause)
        if number is None or _YEAR.fullmatch(number.group()):
            continue
        before = clause[: number.start()]
        if len(before.split()) > 5:
            continue  # "I live in Graz and saw it in 2019": no street-and-number shape
        if number.start() == 0:
            # "12 rue de la Paix", "14 Baker Street, just round the corner": up to the comma.
            comma = clause.find(",")
            end = start + (comma if comma != -1 else len(clause))
        else:
            end = start + number.end()
        if before.strip() or number.start() == 0:
            spans.append(Span(start, end, "ADDRESS"))
    return spans
