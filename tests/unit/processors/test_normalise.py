"""normalise: every rule table-tested in several languages, plus idempotence properties."""

# Real-looking mail headers read best one per line, however long.
# ruff: noqa: E501

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from processors.normalise import find_object_refs, normalise
from schemas import RawTip

WHEN = datetime(2024, 6, 3, 10, 0, tzinfo=UTC)


def make(body: str, subject: str = "", **kw: object) -> RawTip:
    return RawTip(tip_id="t-1", channel="email", received_at=WHEN, body=body, subject=subject, **kw)


def body_of(text: str) -> str:
    return normalise(make(text)).body


# --- Unicode, mojibake, whitespace ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Cafe\u0301 in Wien", "Café in Wien"),  # decomposed -> NFC
        ("Zielona torba z Z\u0307abki", "Zielona torba z Żabki"),
        ("Tasche\u00a0bei\u2009DM", "Tasche bei DM"),  # exotic spaces become one space
        ("Sac  vu   à\tLyon", "Sac vu à Lyon"),
        ("ligne 1\r\nligne 2\rligne 3", "ligne 1\nligne 2\nligne 3"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("  \n  bolso visto en Madrid  \n\n ", "bolso visto en Madrid"),
        ("zero\u200bwidth\ufeff and soft\u00adhyphen", "zerowidth and softhyphen"),
        ("bell\x07 and escape\x1b", "bell and escape"),
    ],
)
def test_unicode_and_whitespace(raw: str, expected: str) -> None:
    assert body_of(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Die Tasche gibt es bei MÃ¼ller in GrÃ¶bming",
            "Die Tasche gibt es bei Müller in Gröbming",
        ),
        ("Sac vu Ã\u00a0 Lyon, trÃ¨s similaire", "Sac vu à Lyon, très similaire"),
        (
            "Lo vi en una tienda en MÃ¡laga, el aÃ±o pasado",
            "Lo vi en una tienda en Málaga, el año pasado",
        ),
        ("WidziaÅ‚am tÄ™ torbÄ™ w Å»abce w GdaÅ„sku", "Widziałam tę torbę w Żabce w Gdańsku"),
        ("Lâ€™ho vista alla Coop di Torino", "L’ho vista alla Coop di Torino"),
        # UTF-8 read as cp1251
        (
            "РЎСѓРјРєР° РёР· РњРѕСЃРєРІС‹, РІРёРґРµР» РІ РђС€Р°РЅРµ",
            "Сумка из Москвы, видел в Ашане",
        ),
    ],
)
def test_mojibake_is_repaired(raw: str, expected: str) -> None:
    assert body_of(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Die Tasche gibt es bei Müller in Gröbming, Österreich – sicher!",
        "Vu chez Leclerc à Besançon, très « similaire »…",
        "Visto en El Corte Inglés, A Coruña; ¿quizá 2019?",
        "Widziałam tę torbę w Żabce w Gdańsku, cena 19,99 zł",
        "Gezien bij Albert Heijn in ’s-Hertogenbosch",
        "Ich grüße euch — die Tasche „Lola“ ist von Tchibo",
        "Видел такую сумку в магазине «Пятёрочка» в Казани",
    ],
)
@pytest.mark.parametrize("codec", ["cp1252", "latin-1"])
def test_double_encoded_utf8_is_repaired(text: str, codec: str) -> None:
    try:
        broken = text.encode("utf-8").decode(codec)
    except UnicodeDecodeError:
        pytest.skip("not representable in this codec")
    assert broken != text
    assert body_of(broken) == text


@pytest.mark.parametrize(
    "text",
    [
        "„Die Tasche“ – ganz sicher von Rossmann, ca. 5 € günstiger",
        "« Sac » vu chez Carrefour… à 20 °C, ½ prix",
        "ＬＩＤＬ Japan sells it too",  # full width is the tipster's spelling: not folded
        "ﬁnal offer at the ﬂea market",  # ligatures kept
        "SÃO PAULO, loja Renner, “bolsa” igual",
        "Ελλάδα, Θεσσαλονίκη — το είδα στο Jumbo",
        "Видел такую сумку в «Ашане», Киев",
        "'quoted' and \"double\" and `back`",
        "Straße, Ärger, Öl, Übung, ß",
        "مرحبا، رأيت الحقيبة في كارفور دبي",
    ],
)
def test_correct_text_is_left_alone(text: str) -> None:
    assert body_of(text) == text


# --- HTML -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "<html><head><title>Re: Tasche</title><style>p {color: red}</style></head>"
            "<body><p>Tasche bei DM&nbsp;gesehen</p><p>in Graz &amp; Wien</p></body></html>",
            "Tasche bei DM gesehen\n\nin Graz & Wien",
        ),
        ("<div>Sac vu<br>chez Leclerc<br/>à Lyon</div>", "Sac vu\nchez Leclerc\nà Lyon"),
        (
            "<p>Gesehen in:</p><ul><li>Lidl Graz</li><li>Spar Linz</li></ul>",
            "Gesehen in:\n\nLidl Graz\nSpar Linz",
        ),
        (
            "<p>bolso</p><script>document.write('x')</script><p>Zara Madrid</p>",
            "bolso\n\nZara Madrid",
        ),
        ("<p>Prezzo &lt; 5 &euro; alla Coop</p>", "Prezzo < 5 € alla Coop"),
        ("<p>&lt;p&gt;escaped markup&lt;/p&gt;</p>", "escaped markup"),
        (
            '<p>Zie <a href="https://shop.example.nl/tas-123">deze tas</a> bij HEMA</p>',
            "Zie deze tas (https://shop.example.nl/tas-123) bij HEMA",
        ),
        (
            '<p><a href="https://shop.example.nl/tas">https://shop.example.nl/tas</a></p>',
            "https://shop.example.nl/tas",
        ),
        ("<table><tr><td>Shop</td><td>Kaufland</td></tr></table>", "Shop Kaufland"),
        ("<!-- tracking --><p>torba z <b>Biedronki</b></p>", "torba z Biedronki"),
    ],
)
def test_html_becomes_text(raw: str, expected: str) -> None:
    assert body_of(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Preis < 5 EUR, gesehen bei Aldi",
        "I <3 this appeal, saw it at Tesco",
        "a<b and c>d in the product code",
        "Forwarded by Max <max@example.org> to me",
    ],
)
def test_plain_text_with_angle_brackets_is_not_parsed(text: str) -> None:
    assert body_of(text) == text


def test_mastodon_post() -> None:
    html = (
        '<p><span class="h-card"><a href="https://mastodon.social/@europol" class="u-url mention">'
        "@<span>europol</span></a></span> Diese Tasche habe ich bei Tedi in Leipzig gesehen "
        '<a href="https://example.europa.eu/objects/4521" rel="nofollow noopener" target="_blank">'
        '<span class="invisible">https://</span><span class="">example.europa.eu/objects/4521</span>'
        '<span class="invisible"></span></a> '
        '<a href="https://mastodon.social/tags/TraceAnObject" class="mention hashtag">'
        "#<span>TraceAnObject</span></a></p>"
    )
    tip = normalise(make(html))
    assert tip.body == (
        "@europol Diese Tasche habe ich bei Tedi in Leipzig gesehen "
        "https://example.europa.eu/objects/4521 #TraceAnObject"
    )
    assert tip.object_refs == ("4521",)


def test_html_blockquote_is_quoted_history() -> None:
    html = (
        '<div dir="ltr">Ja, die gibt es bei Müller in Salzburg.</div><br>'
        '<div class="gmail_quote"><div class="gmail_attr">Am Mo., 3. Juni 2024 um 10:00 Uhr '
        "schrieb Appeal Team &lt;appeal@example.org&gt;:<br></div>"
        "<blockquote>Kennen Sie dieses Objekt?<br>Objekt 4521</blockquote></div>"
    )
    tip = normalise(make(html))
    assert tip.body == "Ja, die gibt es bei Müller in Salzburg."
    assert tip.object_refs == ("4521",)  # named only in the quoted appeal


# --- reply history --------------------------------------------------------------------------------

HISTORY = [
    # (language, tipster's text, history that follows it)
    ("en", "I saw this bag in a Tesco in Leeds.", "On Mon, 3 Jun 2024 at 10:00, Appeal Team <a@example.org> wrote:\n> Do you know this object?\n> Thanks"),
    ("en", "Same bag at Primark Dublin.", "On 3 Jun 2024, at 10:00, Appeal Team\n<a@example.org> wrote:\n\n> Do you know this object?"),
    ("de", "Die gibt es bei Rossmann in Graz.", "Am 03.06.2024 um 10:00 schrieb Appeal Team <a@example.org>:\n> Kennen Sie dieses Objekt?"),
    ("de", "Gesehen bei Kik in Linz.", "Am Mo., 3. Juni 2024 um 10:00 Uhr schrieb Appeal Team <\na@example.org>:\n>\n> Kennen Sie dieses Objekt?"),
    ("fr", "Vu chez Leclerc à Lyon.", "Le lun. 3 juin 2024 à 10:00, Appeal Team <a@example.org> a écrit :\n> Connaissez-vous cet objet ?"),
    ("es", "Lo vi en Mercadona, Valencia.", "El lun, 3 jun 2024 a las 10:00, Appeal Team (<a@example.org>) escribió:\n> ¿Conoce este objeto?"),
    ("it", "L'ho visto alla Coop di Bologna.", "Il giorno lun 3 giu 2024 alle ore 10:00 Appeal Team <a@example.org> ha scritto:\n> Conosce questo oggetto?"),
    ("it", "Anche da Esselunga.", "Il 03/06/2024 10:00, Appeal Team ha scritto:\n> Conosce questo oggetto?"),
    ("pl", "Widziałem ją w Biedronce w Krakowie.", "W dniu 3.06.2024 o 10:00, Appeal Team <a@example.org> napisał(a):\n> Czy zna Pan/Pani ten przedmiot?"),
    ("pl", "W Rossmannie w Gdańsku.", "Dnia 3 czerwca 2024 10:00 Appeal Team <a@example.org> napisał:\n> Czy zna Pan ten przedmiot?"),
    ("nl", "Gezien bij de HEMA in Utrecht.", "Op ma 3 jun. 2024 om 10:00 schreef Appeal Team <a@example.org>:\n> Herkent u dit voorwerp?"),
    ("nl", "Bij Action in Gent.", "Op 3 juni 2024 om 10:00 heeft Appeal Team <a@example.org> het volgende geschreven:\n> Herkent u dit voorwerp?"),
    ("pt", "Vi no Continente em Braga.", "Em seg., 3 de jun. de 2024 às 10:00, Appeal Team <a@example.org> escreveu:\n> Conhece este objeto?"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "own", "history"), HISTORY, ids=[h[0] for h in HISTORY])
def test_reply_history_is_removed(lang: str, own: str, history: str) -> None:
    assert body_of(f"{own}\n\n{history}") == own


def test_inline_reply_keeps_the_tipster_lines() -> None:
    text = "> Where did you see it?\nAt Lidl in Graz.\n> When?\nLast summer, July 2023.\n"
    assert body_of(text) == "At Lidl in Graz.\nLast summer, July 2023."


def test_only_quoted_text_is_kept_unquoted() -> None:
    assert body_of("> Tasche von Rossmann\n> in Graz") == "Tasche von Rossmann\nin Graz"


@pytest.mark.parametrize(
    "text",
    [
        "> 50 Stück gesehen",  # a lone line that only starts with ">" is still the tip
        "Ich habe folgendes geschrieben: Lidl",
        "On the label it says:",
        "Am Montag habe ich sie gesehen und dachte:",
    ],
)
def test_not_history(text: str) -> None:
    expected = text[2:] if text.startswith("> ") else text
    assert body_of(text) == expected


# --- forwarded messages and Outlook history -------------------------------------------------------

FORWARDS = [
    ("en", "---------- Forwarded message ---------\nFrom: Anna <anna@example.org>\nDate: Mon, 3 Jun 2024 at 10:00\nSubject: bag\nTo: <me@example.org>"),
    ("en", "Begin forwarded message:\n\nFrom: Anna <anna@example.org>\nSubject: bag\nDate: 3 June 2024 at 10:00:00 CEST\nTo: me@example.org"),
    ("de", "-------- Weitergeleitete Nachricht --------\nBetreff: Tasche\nDatum: Mon, 3 Jun 2024 10:00:00 +0200\nVon: Anna <anna@example.org>\nAn: me@example.org"),
    ("de", "Anfang der weitergeleiteten Nachricht:\n\nVon: Anna <anna@example.org>\nBetreff: Tasche\nDatum: 3. Juni 2024 um 10:00:00 MESZ\nAn: me@example.org"),
    ("fr", "---------- Message transféré ---------\nDe : Anna <anna@example.org>\nDate: lun. 3 juin 2024 à 10:00\nSubject: sac\nTo: <me@example.org>"),
    ("es", "---------- Mensaje reenviado ---------\nDe: Anna <anna@example.org>\nDate: lun, 3 jun 2024 a las 10:00\nSubject: bolso\nTo: <me@example.org>"),
    ("it", "---------- Messaggio inoltrato ---------\nDa: Anna <anna@example.org>\nDate: lun 3 giu 2024 alle ore 10:00\nSubject: borsa\nTo: <me@example.org>"),
    ("pl", "---------- Wiadomość przekazana dalej ---------\nOd: Anna <anna@example.org>\nDate: pon., 3 cze 2024 o 10:00\nSubject: torba\nTo: <me@example.org>"),
    ("de", "-------- Original-Nachricht --------\nBetreff: Tasche\nDatum: 2024-06-03T10:00:00+02:00\nVon: Anna <anna@example.org>\nAn: me@example.org"),
    ("fr", "-------- Message transféré --------\nSujet : sac\nDate : Mon, 3 Jun 2024 10:00:00 +0200\nDe : Anna <anna@example.org>\nPour : me@example.org"),
    ("nl", "---------- Doorgestuurd bericht ---------\nVan: Anna <anna@example.org>\nDate: ma 3 jun. 2024 om 10:00\nSubject: tas\nTo: <me@example.org>"),
]  # fmt: skip
FORWARDED_CONTENT = "The bag is sold at Kaufland in Dresden, I bought one in 2022."


@pytest.mark.parametrize(("lang", "header"), FORWARDS, ids=[f[0] for f in FORWARDS])
def test_forward_alone_keeps_the_forwarded_content(lang: str, header: str) -> None:
    assert body_of(f"{header}\n\n{FORWARDED_CONTENT}") == FORWARDED_CONTENT


@pytest.mark.parametrize(("lang", "header"), FORWARDS, ids=[f[0] for f in FORWARDS])
def test_forward_with_short_cover_note_keeps_both(lang: str, header: str) -> None:
    assert body_of(f"FYI\n\n{header}\n\n{FORWARDED_CONTENT}") == f"FYI\n\n{FORWARDED_CONTENT}"


def test_forward_below_own_tip_is_dropped() -> None:
    own = (
        "I recognise this bag: my neighbour bought the same one at Kaufland in Dresden.\n"
        "The pattern on the strap is identical."
    )
    assert body_of(f"{own}\n\n{FORWARDS[0][1]}\n\nOld newsletter text") == own


OUTLOOK = [
    ("en", "-----Original Message-----\nFrom: Appeal Team <a@example.org>\nSent: Monday, June 3, 2024 10:00 AM\nTo: Me\nSubject: object"),
    ("en", "________________________________\nFrom: Appeal Team <a@example.org>\nSent: Monday, June 3, 2024 10:00\nTo: Me <me@example.org>\nSubject: object"),
    ("de", "-----Ursprüngliche Nachricht-----\nVon: Appeal Team <a@example.org>\nGesendet: Montag, 3. Juni 2024 10:00\nAn: Ich\nBetreff: Objekt"),
    ("fr", "-----Message d'origine-----\nDe : Appeal Team <a@example.org>\nEnvoyé : lundi 3 juin 2024 10:00\nÀ : Moi\nObjet : objet"),
    ("es", "-----Mensaje original-----\nDe: Appeal Team <a@example.org>\nEnviado el: lunes, 3 de junio de 2024 10:00\nPara: Yo\nAsunto: objeto"),
    ("it", "-----Messaggio originale-----\nDa: Appeal Team <a@example.org>\nInviato: lunedì 3 giugno 2024 10:00\nA: Io\nOggetto: oggetto"),
    ("pl", "-----Wiadomość oryginalna-----\nOd: Appeal Team <a@example.org>\nWysłano: poniedziałek, 3 czerwca 2024 10:00\nDo: Ja\nTemat: obiekt"),
    ("nl", "-----Oorspronkelijk bericht-----\nVan: Appeal Team <a@example.org>\nVerzonden: maandag 3 juni 2024 10:00\nAan: Ik\nOnderwerp: voorwerp"),
    ("nl", "Van: Appeal Team <a@example.org>\nVerzonden: maandag 3 juni 2024 10:00\nAan: Ik\nOnderwerp: voorwerp"),
]  # fmt: skip


@pytest.mark.parametrize(("lang", "header"), OUTLOOK, ids=[o[0] for o in OUTLOOK])
def test_outlook_history_is_cut(lang: str, header: str) -> None:
    own = "This bag is from Pepco, I have seen it in many shops in Poland and Czechia."
    assert body_of(f"{own}\n\n{header}\n\nDear all, please help us find object 17.") == own


# --- signatures -----------------------------------------------------------------------------------

SIGNATURES = [
    ("en", "Best regards,\nJohn Smith\n+44 20 7946 0000"),
    ("en", "Kind regards\n\nJohn Smith\nSenior Buyer, Example Ltd\njohn.smith@example.co.uk"),
    ("en", "Thanks,\nJohn"),
    ("en", "Cheers, Jo"),
    ("en", "-- \nJohn Smith | Example Ltd | +44 20 7946 0000"),
    ("en", "Sent from my iPhone"),
    ("en", "Get Outlook for Android"),
    ("de", "Mit freundlichen Grüßen\nMax Mustermann\nHauptstraße 1\n8010 Graz"),
    ("de", "Viele Grüße,\nAnna"),
    ("de", "LG Anna"),
    ("de", "Von meinem iPhone gesendet"),
    ("de", "Gesendet von meinem Samsung Galaxy Smartphone."),
    ("fr", "Cordialement,\nJean Dupont\n06 12 34 56 78"),
    ("fr", "Bien à vous,\nMarie"),
    ("fr", "Merci et bonne journée,\nCamille"),
    ("fr", "Envoyé de mon iPhone"),
    ("es", "Saludos cordiales,\nJuan García"),
    ("es", "Un saludo\nMaría"),
    ("es", "Un cordial saludo,\nLucía Fernández\nMadrid"),
    ("es", "Enviado desde mi iPhone"),
    ("it", "Cordiali saluti\nMario Rossi"),
    ("it", "Grazie mille, Giulia"),
    ("it", "Inviato da iPhone"),
    ("pl", "Pozdrawiam\nJan Kowalski"),
    ("pl", "Z poważaniem,\nAnna Nowak\ntel. 600 700 800"),
    ("pl", "Wysłane z mojego iPhone'a"),
    ("nl", "Met vriendelijke groet,\nJan de Vries"),
    ("nl", "Groetjes, Sanne"),
    ("nl", "Verzonden vanaf mijn iPhone"),
    ("pt", "Atenciosamente,\nJoão Silva"),
    ("sv", "Med vänliga hälsningar\nErik Johansson"),
]  # fmt: skip
TIP = "The bag in the appeal is sold at Lidl, I saw it in Graz in March 2023."


@pytest.mark.parametrize(("lang", "signature"), SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature_is_cut(lang: str, signature: str) -> None:
    assert body_of(f"{TIP}\n\n{signature}") == TIP


@pytest.mark.parametrize(("lang", "signature"), SIGNATURES, ids=[s[0] for s in SIGNATURES])
def test_signature_then_reply_history(lang: str, signature: str) -> None:
    history = "On Mon, 3 Jun 2024 at 10:00, Appeal Team <a@example.org> wrote:\n> object 12"
    assert body_of(f"{TIP}\n\n{signature}\n\n{history}") == TIP


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Die Tasche ist von Rossmann. LG Maria", "Die Tasche ist von Rossmann."),
        ("Vu chez Carrefour à Nice. Merci, Julie", "Vu chez Carrefour à Nice."),
        ("C'est Decathlon. Merci et bonne journée, Camille", "C'est Decathlon."),
        ("Visto en Zara Sevilla. Saludos, Pedro Gómez", "Visto en Zara Sevilla."),
        ("Vista all'Oviesse di Bari! Grazie", "Vista all'Oviesse di Bari!"),
        ("Widziałam w Pepco. Pozdrawiam Kasia", "Widziałam w Pepco."),
        ("Gezien bij Zeeman. Groeten, Kees", "Gezien bij Zeeman."),
        ("Seen at Argos in York. Sent from my iPhone", "Seen at Argos in York."),
    ],
)
def test_closing_at_the_end_of_the_tip_keeps_the_tip(raw: str, expected: str) -> None:
    assert body_of(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Thanks for the appeal. The bag is from Lidl.",
        "Danke für eure Arbeit! Die Tasche ist von Tchibo.",
        "Grüße aus Graz: die Tasche ist von Spar.",
        "The best place to look is Primark. Best quality bags there.",
        "Salutations: this is from Monoprix\nin Paris, rue de Rivoli, 2022.",
        "Merci",  # a tip that is only a closing stays: cutting would leave nothing
        "Best regards,\nJohn Smith",
        "--\nnothing but a signature",
        "Grüße aus Wien",  # a place, not a name
        "Tip: check the strap.\n--\nThe bag is from Kik, I bought the same one in Linz in 2021 and it had exactly this pattern on the front, the label says made in Bangladesh, and the price was 12.99 euros.\nline\nline\nline\nline\nline\nline\nline\nline\nline\nline",
    ],
)
def test_content_that_is_not_a_signature_stays(text: str) -> None:
    assert body_of(text) == text


# --- object references ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "refs"),
    [
        ("I think object 4521 is from Lidl", ["4521"]),
        ("Object #4521 and object no. 33", ["4521", "33"]),
        ("Objekt Nr. 123 ist von DM", ["123"]),
        ("Das Objekt 12 und 13 kenne ich", ["12", "13"]),
        ("L'objet n° 77 vient de Carrefour", ["77"]),
        ("Obiekt 908 jest z Biedronki", ["908"]),
        ("El objeto 55 es de Zara", ["55"]),
        ("L'oggetto numero 61 è della Coop", ["61"]),
        ("Voorwerp 8 komt van de HEMA", ["8"]),
        ("Re #4521: Lidl", ["4521"]),
        ("see https://trace.example.org/objects/4521 please", ["4521"]),
        ("see https://any.example/en/o/77?lang=en", ["77"]),
        ("see https://www.example.eu/page?object=9001&utm_source=x", ["9001"]),
        ("the #1 best seller at Lidl", []),
        ("#12 best rated bag", []),
        ("#Lidl #TraceAnObject #2024", []),
        ("page https://example.org/help#123 and &#123;", []),
        ("object 2 times seen, Objekt 3 mal gesehen", []),
        ("the object was 12.5 cm wide", []),
        ("Object: 1234567", ["1234567"]),
        ("https://shop.example/items/555 shows the bag", []),
    ],
)
def test_find_object_refs(text: str, refs: list[str]) -> None:
    assert find_object_refs(text) == refs


def test_object_refs_keep_adapter_ref_first_and_dedupe() -> None:
    tip = normalise(
        make("Objekt 7 und object 4521, see also #4521", subject="Re: object 99", object_ref="4521")
    )
    assert tip.object_refs == ("4521", "99", "7")


def test_object_refs_from_history_only_when_own_text_names_none() -> None:
    history = "\n\nOn Mon, 3 Jun 2024, Appeal <a@example.org> wrote:\n> object 17"
    assert normalise(make("Kaufland Dresden" + history)).object_refs == ("17",)
    assert normalise(make("It is object 5" + history)).object_refs == ("5",)
    newsletter = "\n\nOn Mon, 3 Jun 2024, Appeal <a@example.org> wrote:\n> objects 1, 2, 3 and 4"
    assert normalise(make("Kaufland Dresden" + newsletter)).object_refs == ()


# --- subject, metadata ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Re: Objekt 4521", "Objekt 4521"),
        ("AW: WG: Tasche", "Tasche"),
        ("Fwd: RE: sac", "sac"),
        ("RV: bolso", "bolso"),
        ("Odp: torba", "torba"),
        ("  multi\nline\tsubject ", "multi line subject"),
        ("Réponse à l'appel", "Réponse à l'appel"),
    ],
)
def test_subject(raw: str, expected: str) -> None:
    assert normalise(make("x", subject=raw)).subject == expected


def test_channel_meta_and_other_fields_are_untouched() -> None:
    meta: dict[str, str | list[str]] = {"sender": "anna@example.org", "received": ["a", "b"]}
    raw = make("Tasche <b>DM</b>", channel_meta=meta, object_ref="9")
    tip = normalise(raw)
    assert tip.channel_meta == meta
    assert tip.model_dump(exclude={"body", "subject", "object_refs"}) == raw.model_dump(
        exclude={"body", "subject", "object_refs"}
    )
    assert raw.body == "Tasche <b>DM</b>"  # the input is not mutated


# --- properties -----------------------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "I saw the bag at Lidl in Graz.",
        "Die Tasche ist von Rossmann!",
        "Sac vu chez Leclerc à Lyon",
        "objeto 123",
        "#4521",
        "https://example.org/objects/77?x=1",
        "> quoted line",
        ">> deeper quote",
        "On Mon, 3 Jun 2024 at 10:00, Anna <a@example.org> wrote:",
        "Am 03.06.2024 schrieb Max:",
        "---------- Forwarded message ---------",
        "From: Anna <a@example.org>",
        "Sent: Monday",
        "Date: today",
        "-----Original Message-----",
        "-- ",
        "--",
        "Best regards,",
        "LG",
        "Anna Müller",
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "GrÃ¼ÃŸe",
        "<p>para</p>",
        "<br>",
        "<blockquote>quoted</blockquote>",
        "&lt;p&gt;",
        "&amp;",
        "",
        " ",
        "\t",
        "\u00a0",
        "\r\n",
        "e\u0301",
    ]
)
_EMAIL_LIKE = st.lists(
    st.tuples(_PIECES, st.sampled_from(["\n", "\n\n", " ", ""])), max_size=25
).map(lambda parts: "".join(p + sep for p, sep in parts))


def _assert_idempotent(body: str, subject: str) -> None:
    once = normalise(make(body, subject=subject))
    assert normalise(once) == once


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=st.text(max_size=400), subject=st.text(max_size=60))
def test_idempotent_on_arbitrary_text(body: str, subject: str) -> None:
    _assert_idempotent(body, subject)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(body=_EMAIL_LIKE, subject=_EMAIL_LIKE)
def test_idempotent_on_email_like_text(body: str, subject: str) -> None:
    _assert_idempotent(body, subject[:200])


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(st.text(max_size=300), _EMAIL_LIKE))
def test_output_is_canonical(body: str) -> None:
    out = normalise(make(body)).body
    assert out == out.strip()
    assert "\r" not in out and "\n\n\n" not in out and "  " not in out
    assert unicodedata.is_normalized("NFC", out)
    assert all(line == line.strip() for line in out.split("\n"))
