"""E-mail clean-up for tips: quoted reply history, forwarding boilerplate and signatures.

The contract: both functions take and return a list of lines that are already stripped and
whitespace-collapsed, and neither ever returns an empty body for a body that had content — when
a rule would remove everything (a bare forward, a reply that is only quoted text) the content it
would have removed is kept and only the boilerplate around it goes.

``strip_history`` returns ``(kept, removed)``: the removed history is handed back so that the
caller can still find the object a reply is about when only the quoted appeal names it.
Signatures matter for privacy, not only for tidiness: a signature or a "Regards, <name>" block
is the commonest place a tipster names themself.
"""

from __future__ import annotations

import re
from typing import Final

_MAX_ROUNDS: Final = 6
# A short note above a forward ("FYI", "siehe unten") does not make the forward history:
# the forwarded text is then the tip itself.
_COVER_NOTE_MAX_CHARS: Final = 80
_COVER_NOTE_MAX_LINES: Final = 2
_SIGNATURE_MAX_LINES: Final = 10
_NAME_BLOCK_MAX_LINES: Final = 6
_NAME_BLOCK_MAX_CHARS: Final = 80
# Longest "Sent from my …" or "… Best regards, Anna-Maria Müller" looked for at a line's end.
_TAIL_CHARS: Final = 90

# --- reply history ---------------------------------------------------------------------------

_QUOTED: Final = re.compile(r"^(?:>[ \t]?)+")

_FORWARD_MARKER: Final = re.compile(
    r"^[-_=*\s]*(?:"
    r"forwarded message|begin forwarded message|fwd? ?message"
    r"|weitergeleitete nachricht|anfang der weitergeleiteten nachricht|weitergeleitete e-mail"
    r"|original-nachricht"  # Thunderbird (de) heads an inline forward with it
    r"|message transf[ée]r[ée]|d[ée]but du message r[ée]exp[ée]di[ée]|message r[ée]exp[ée]di[ée]"
    r"|mensaje reenviado|inicio del mensaje reenviado"
    r"|messaggio inoltrato|inizio messaggio inoltrato"
    r"|wiadomo[śs][ćc] przekazana dalej|przekazana wiadomo[śs][ćc]"
    r"|pocz[ąa]tek przekazanej wiadomo[śs]ci"
    r"|doorgestuurd bericht|begin doorgestuurd bericht"
    r"|mensagem encaminhada|in[íi]cio da mensagem reencaminhada"
    r"|vidarebefordrat meddelande|videresendt meddelelse|videresendt melding"
    r"|välitetty viesti|přeposlaná zpráva|továbbított üzenet|mesaj redirecționat"
    r"|пересланное сообщение"
    r")\s*:?[-_=*\s]*$",
    re.IGNORECASE,
)
_ORIGINAL_MARKER: Final = re.compile(
    r"^[-_=*\s]*(?:original message|ursprüngliche nachricht|originalnachricht"
    r"|message d'origine|mensaje original|messaggio originale|wiadomo[śs][ćc] oryginalna"
    r"|oorspronkelijk bericht|oorspronkelijk e-?mailbericht|mensagem original"
    r"|ursprungligt meddelande|oprindelig meddelelse|opprinnelig melding|alkuperäinen viesti"
    r"|původní zpráva|eredeti üzenet|mesaj original|исходное сообщение)"
    r"[-_=*\s]*$",
    re.IGNORECASE,
)
_UNDERSCORE_RULE: Final = re.compile(r"^_{8,}$")
# A header line of a forwarded or Outlook-quoted message, in the languages mail clients localise.
_HEADER_FROM: Final = r"from|von|de|da|od|van|från|fra|lähettäjä|feladó|expeditor|от|від|kimden"
_HEADER_WHEN: Final = (
    r"sent|date|gesendet|datum|envoy[ée]|date d'envoi|enviado|enviado el|fecha|inviato|data"
    r"|wys[łl]ano|wys[łl]ane|data wys[łl]ania|verzonden|verstuurd|skickat|sendt|lähetetty"
    r"|päivämäärä|odesláno|elküldve|dátum|trimis|отправлено|дата|надіслано|gönderildi|tarih"
)
_HEADER_OTHER: Final = (
    r"to|an|à|a|para|do|aan|till|til|vastaanottaja|komu|címzett|către|кому|kime"
    r"|pour|destinataire|destinatario|mittente|cc|bcc|reply-to|antwort an|répondre à"
    r"|responder a|rispondi a|sujet|fecha"
    r"|subject|betreff|objet|asunto|oggetto|temat|onderwerp|assunto|ämne|emne|aihe|předmět"
    r"|tárgy|subiect|тема|konu"
)
_HEADER_LINE: Final = re.compile(
    rf"^\*?(?:{_HEADER_FROM}|{_HEADER_WHEN}|{_HEADER_OTHER})\*? ?:\*?(?: |$)", re.IGNORECASE
)
_HEADER_FROM_LINE: Final = re.compile(rf"^\*?(?:{_HEADER_FROM})\*? ?:\*? \S", re.IGNORECASE)
_HEADER_WHEN_LINE: Final = re.compile(rf"^\*?(?:{_HEADER_WHEN})\*? ?:\*? \S", re.IGNORECASE)

# "On <date>, <name> wrote:" in many languages. Mail clients wrap it, so it is tried on a line
# and on a line joined with the next one.
_ATTRIBUTION: Final = re.compile(
    r"^(?:"
    r"on\b.{3,250}\bwrote"
    r"|am\b.{3,250}\bschrieb\b.{0,200}"
    r"|le\b.{3,250}\ba [ée]crit"
    r"|el\b.{3,250}\bescribi[óo]"
    r"|il\b.{3,250}\bha scritto"
    r"|(?:w dniu|dnia)\b.{3,250}\b(?:napisa[łl](?:\(a\)|a)?|pisze)"
    r"|op\b.{3,250}\b(?:schreef\b.{0,200}|heeft .{1,120} geschreven)"
    r"|(?:em|no dia|às)\b.{3,250}\bescreveu"
    r"|den\b.{3,250}\bskrev|d\.\s?\d.{3,250}\bskrev"
    r"|(?:dne|v)\b.{3,250}\bnapsal(?:\(a\)|a)?"
    r"|.{3,250}\b(?:wrote|schrieb|a [ée]crit|escribi[óo]|ha scritto|napisa[łl](?:\(a\)|a)?"
    r"|schreef|escreveu|skrev|kirjoitti|napsal(?:\(a\)|a)?|írta|a scris|написал(?:\(а\)|а)?"
    r"|пише|yazdı)"
    r")\s?:$",
    re.IGNORECASE,
)
# The generic, verb-only branch above needs some sign of a date or address to count.
_ATTRIBUTION_EVIDENCE: Final = re.compile(r"\d|@")
_ATTRIBUTION_START: Final = re.compile(
    r"^(?:on|am|le|el|il|w dniu|dnia|op|em|no dia|às|den|dne|v|d\.)\b", re.IGNORECASE
)

# --- signatures ------------------------------------------------------------------------------

_SIG_DELIMITER: Final = re.compile(r"^--\s*$")
_MOBILE: Final = re.compile(
    r"(?:^|(?<=[.!?…)]\s))(?:"
    r"sent from (?:my |the )?\S.{0,40}|sent with \S.{0,40}|get outlook for \S.{0,20}"
    r"|sent from mail for windows.{0,10}|sent via \S.{0,40}"
    r"|(?:von|gesendet von|gesendet mit) (?:meinem |meiner )?\S.{0,40}(?: gesendet)?"
    r"|envoy[ée] (?:de|depuis) (?:mon |ma )?\S.{0,40}"
    r"|enviado (?:desde|de|do) (?:mi |meu |o meu |a minha )?\S.{0,40}"
    r"|inviato (?:da|dal|dal mio|dalla mia) \S.{0,40}"
    r"|wys[łl]an[eoy] (?:z|ze) (?:mojego |mojej |aplikacji )?\S.{0,40}"
    r"|(?:verzonden|verstuurd) (?:vanaf|met|van) (?:mijn )?\S.{0,40}"
    r"|skickat fr[åa]n (?:min )?\S.{0,40}|sendt fra (?:min )?\S.{0,40}"
    r"|lähetetty \S.{0,40}|odesláno z \S.{0,40}|отправлено с \S.{0,40}"
    r")$",
    re.IGNORECASE,
)
_MOBILE_DEVICE: Final = re.compile(
    r"iphone|ipad|android|samsung|galaxy|huawei|xiaomi|pixel|outlook|mail|smartphone|handy"
    r"|mobile|telefon|phone|téléphone|móvil|movil|cellulare|komórk|telefoon|gmx|web\.de|yahoo"
    r"|proton|thunderbird|blackberry|windows|aol|t-online|tablet|app",
    re.IGNORECASE,
)

_CLOSINGS: Final = (
    # en
    "best regards|kind regards|warm regards|warmest regards|regards|best wishes|best|cheers"
    "|thanks|thank you|thanks a lot|many thanks|thanks again|thx|sincerely|yours sincerely"
    "|sincerely yours|yours truly|yours faithfully|all the best|take care|greetings|respectfully"
    # de
    "|mit freundlichen gr[üu](?:ß|ss)en|mit besten gr[üu](?:ß|ss)en|freundliche gr[üu](?:ß|ss)e"
    "|viele gr[üu](?:ß|ss)e|liebe gr[üu](?:ß|ss)e|beste gr[üu](?:ß|ss)e|herzliche gr[üu](?:ß|ss)e"
    "|sch[öo]ne gr[üu](?:ß|ss)e|gr[üu](?:ß|ss)e|gru(?:ß|ss)|lg|vg|mfg|danke|danke sch[öo]n"
    "|vielen dank|besten dank|herzlichen dank|danke und gr[üu](?:ß|ss)e"
    # fr
    "|cordialement|bien cordialement|tr[èe]s cordialement|bien [àa] vous|salutations"
    "|sinc[èe]res salutations|meilleures salutations|bonne journ[ée]e|merci|merci beaucoup"
    "|merci d'avance|amicalement|bien amicalement|bises|[àa] bient[ôo]t|respectueusement"
    # es
    "|saludos|un saludo|saludos cordiales|atentamente|un abrazo|gracias|muchas gracias"
    "|cordialmente|besos|un cordial saludo|cordiales saludos|un fuerte abrazo"
    # it
    "|cordiali saluti|distinti saluti|saluti|un saluto|grazie|grazie mille|a presto"
    "|un abbraccio|buona giornata"
    # pl
    "|pozdrawiam|z powa[żz]aniem|serdecznie pozdrawiam|pozdrowienia|dzi[ęe]kuj[ęe]|dzi[ęe]ki"
    "|z wyrazami szacunku|pzdr"
    # nl
    "|met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|groeten|groetjes"
    "|hartelijke groet(?:en)?|mvg|bedankt|dank je|dank u|alvast bedankt"
    # pt, sv, da/no, fi, cs/sk, hu, ro, hr/sl, el, ru/uk, tr
    "|atenciosamente|cumprimentos|melhores cumprimentos|obrigad[oa]|abra[çc]os"
    "|med v[äa]nliga h[äa]lsningar|v[äa]nliga h[äa]lsningar|h[äa]lsningar|mvh|tack"
    "|med venlig hilsen|venlig hilsen|med vennlig hilsen|vennlig hilsen|hilsen|tak|takk"
    "|yst[äa]v[äa]llisin terveisin|terveisin|kiitos"
    "|s pozdravem|s pozdravom|d[ěe]kuji|[ďd]akujem|d[íi]ky"
    "|[üu]dv[öo]zlettel|tisztelettel|k[öo]sz[öo]n[öo]m"
    "|cu stim[ăa]|cu respect|mul[țt]umesc"
    "|lijep pozdrav|srda[čc]an pozdrav|lep pozdrav|hvala"
    "|με εκτίμηση|ευχαριστώ|с уважением|спасибо|з повагою|дякую|saygılarımla|teşekkürler"
)
# A name after a closing on the same line ("Thanks, Anna", "LG Jan van Dijk"). The stdlib has
# no \p{Lu}, so the regex takes up to four words and ``_is_name`` checks their capitals.
_NAME_WORDS: Final = r"(?P<name>[^\W\d_][\w'’.-]{0,30}(?:[ -][^\W\d_][\w'’.-]{0,30}){0,3})"
_PARTICLES: Final = frozenset(
    {"van", "von", "de", "der", "den", "da", "di", "del", "la", "le", "y"}
)
_CLOSING_LINE: Final = re.compile(
    rf"^(?i:{_CLOSINGS})(?:\s+(?i:and|und|et|y|e|i|en|&)\s+(?:(?i:{_CLOSINGS})|\w+))?[\s,.!:;]*"
    rf"(?:{_NAME_WORDS}[.!]?)?$"
)
_CLOSING_INLINE: Final = re.compile(
    rf"(?<=[.!?…)])\s+(?i:{_CLOSINGS})(?:\s+(?i:and|und|et|y|e|i|en|&)\s+(?i:{_CLOSINGS}))?"
    rf"[\s,.!:;]*(?:{_NAME_WORDS}[.!]?)?$"
)


def _is_name(name: str | None, *, strict: bool) -> bool:
    """A plausible personal name: capitalised words, or (on its own line) any single word."""
    if name is None:
        return True
    words = name.replace("-", " ").split()
    if not strict and len(words) == 1:
        return True
    return words[0][0].isupper() and all(w[0].isupper() or w in _PARTICLES for w in words)


_LETTER: Final = re.compile(r"[^\W\d_]")


def _has_content(lines: list[str]) -> bool:
    return any(_LETTER.search(line) for line in lines)


def _trim(lines: list[str]) -> list[str]:
    """Drop leading/trailing blank lines and runs of more than one blank line."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def _is_cover_note(lines: list[str]) -> bool:
    body = [line for line in lines if line]
    return len(body) <= _COVER_NOTE_MAX_LINES and sum(map(len, body)) <= _COVER_NOTE_MAX_CHARS


def _skip_headers(lines: list[str], start: int) -> int:
    """Index of the first line after the header block that begins at or after ``start``."""
    i = start
    while i < len(lines) and not lines[i]:
        i += 1
    while i < len(lines) and _HEADER_LINE.match(lines[i]):
        i += 1
    return i


def _history_block(lines: list[str]) -> tuple[int, int, bool] | None:
    """The first history block: (start of boilerplate, start of content, is a forward).

    An explicit forward marker means the tipster chose to send that content; an Outlook
    "Original Message" or From/Sent header block is as often the appeal they reply to.
    """
    for i, line in enumerate(lines):
        if not line:
            continue
        if _FORWARD_MARKER.match(line):
            return i, _skip_headers(lines, i + 1), True
        if _ORIGINAL_MARKER.match(line):
            return i, _skip_headers(lines, i + 1), False
        if _HEADER_FROM_LINE.match(line) and any(
            _HEADER_WHEN_LINE.match(nxt) for nxt in lines[i + 1 : i + 4]
        ):
            start = i - 1 if i and _UNDERSCORE_RULE.match(lines[i - 1]) else i
            return start, _skip_headers(lines, i), False
    return None


def _attribution(lines: list[str]) -> tuple[int, int] | None:
    """(first line, line after) of a reply attribution such as "On …, X wrote:"."""
    for i, line in enumerate(lines):
        # Every attribution ends with ":", on this line or the next: a cheap gate in front of
        # a regex that is slow on long lines.
        if not line or len(line) > 300:
            continue
        if not line.endswith(":") and not (i + 1 < len(lines) and lines[i + 1].endswith(":")):
            continue
        for end in (i + 1, i + 2):
            candidate = " ".join(lines[i:end])
            if end > len(lines) or (end == i + 2 and not lines[i + 1]):
                break
            if _ATTRIBUTION.match(candidate) and (
                _ATTRIBUTION_START.match(candidate) or _ATTRIBUTION_EVIDENCE.search(candidate)
            ):
                return i, end
    return None


def _strip_history_once(lines: list[str]) -> tuple[list[str], list[str]]:
    block = _history_block(lines)
    if block is not None:
        start, content, forward = block
        own, rest = lines[:start], lines[content:]
        if not _has_content(own) or (forward and _is_cover_note(own)):
            return [*own, "", *rest], []
        return own, rest
    attribution = _attribution(lines)
    if attribution is not None:
        start, end = attribution
        following = next((line for line in lines[end:] if line), "")
        if _QUOTED.match(following) or not following:
            return lines[:start] + lines[end:], []
        own, rest = lines[:start], lines[end:]
        if not _has_content(own):
            return rest, []
        return own, rest
    quoted = [i for i, line in enumerate(lines) if _QUOTED.match(line)]
    if quoted:
        kept = [line for line in lines if not _QUOTED.match(line)]
        if _has_content(kept):
            return kept, [lines[i] for i in quoted]
        return [_QUOTED.sub("", line).strip() for line in lines], []
    return lines, []


def strip_history(lines: list[str]) -> tuple[list[str], list[str]]:
    """Remove reply history and forwarding boilerplate; return ``(kept, removed)`` lines."""
    removed: list[str] = []
    for _ in range(_MAX_ROUNDS):
        new, gone = _strip_history_once(lines)
        new = _trim(new)
        removed.extend(gone)
        if new == lines:
            break
        lines = new
    return lines, removed


def _is_name_block(lines: list[str]) -> bool:
    body = [line for line in lines if line]
    if len(body) > _NAME_BLOCK_MAX_LINES:
        return False
    for line in body:
        words = line.split()
        sentence = len(words) >= 8 or (len(words) >= 4 and line.endswith((".", "?", "!")))
        if len(line) > _NAME_BLOCK_MAX_CHARS or sentence:
            return False
    return True


def _strip_signature_once(lines: list[str]) -> list[str]:
    # "-- " delimiter (already stripped to "--"): the classic Usenet/e-mail signature.
    for i in range(len(lines) - 1, -1, -1):
        if _SIG_DELIMITER.match(lines[i]):
            if len([x for x in lines[i + 1 :] if x]) <= _SIGNATURE_MAX_LINES and _has_content(
                lines[:i]
            ):
                return lines[:i]
            break
    # "Sent from my iPhone" and the like, on its own line or at the end of one.
    for i in range(len(lines) - 1, max(-1, len(lines) - 8), -1):
        # Only the end of a line can hold one; searching just the tail keeps long lines cheap
        # (lookbehinds still see the characters before ``pos``).
        match = _MOBILE.search(lines[i], max(0, len(lines[i]) - _TAIL_CHARS))
        if match and _MOBILE_DEVICE.search(match.group()):
            head = lines[i][: match.start()].rstrip()
            tail = lines[i + 1 :]
            kept = [*lines[:i], head] if head else lines[:i]
            if _is_name_block(tail):
                return kept if _has_content(kept) else lines
            return [*kept, *tail]
    # A closing phrase, alone or with a name, followed by at most a short name block.
    body_idx = [i for i, line in enumerate(lines) if line]
    for i in reversed(body_idx[-(_NAME_BLOCK_MAX_LINES + 1) :]):
        closing = _CLOSING_LINE.match(lines[i])
        if (
            closing
            and _is_name(closing.group("name"), strict=False)
            and _is_name_block(lines[i + 1 :])
        ):
            if _has_content(lines[:i]):
                return lines[:i]
            break
    # A closing at the end of the tip's last sentence: keep the sentence, drop the rest.
    if body_idx:
        last = body_idx[-1]
        match = _CLOSING_INLINE.search(lines[last], max(0, len(lines[last]) - _TAIL_CHARS))
        if match and _is_name(match.group("name"), strict=True):
            return [*lines[:last], lines[last][: match.start()]]
    return lines


def strip_signature(lines: list[str]) -> list[str]:
    """Cut signature blocks, "Sent from my …" lines and closing-plus-name blocks at the end."""
    for _ in range(_MAX_ROUNDS):
        new = _trim(_strip_signature_once(lines))
        if new == lines:
            break
        lines = new
    return lines
