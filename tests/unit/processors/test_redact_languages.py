"""Every redaction rule in each of the site's 31 languages, written for this test.

Per language: a self-introduction, a contact word several words before a phone number, a card
number right after that language's word for "card", and a sentence of evidence that must stay.
"""

from __future__ import annotations

from collections import Counter

import pytest

from processors.redact import redact_text
from schemas import RedactionKind

CARD = "9100 0000 0000 0000"  # Luhn-valid, in no issuer range: only the cue makes it a card
PHONE = "0171 2345678"

# lang: (self-introduction, name, contact sentence, card sentence, evidence sentence)
TABLE: dict[str, tuple[str, str, str, str, str]] = {
    "bg": (
        "Казвам се Иван Петров.",
        "Иван Петров",
        f"Мобилният ми, ако ви трябва, е {PHONE}.",
        f"Платих с карта {CARD}.",
        "Видях я в Лидл в Пловдив през 2019 г. за 12,99 лв.",
    ),
    "cs": (
        "Jmenuji se Jana Nováková.",
        "Jana Nováková",
        f"Můj mobil, kdybyste ho potřebovali, je {PHONE}.",
        f"Platila jsem kartou {CARD}.",
        "Viděla jsem ji v Tescu v Brně v roce 2019.",
    ),
    "da": (
        "Jeg hedder Mette Jensen.",
        "Mette Jensen",
        f"Min mobil, hvis I får brug for den, er {PHONE}.",
        f"Jeg betalte med kort {CARD}.",
        "Jeg så den i Netto i Aarhus i 2019.",
    ),
    "de": (
        "Ich heiße Anna Berger.",
        "Anna Berger",
        f"Mein Handy, falls Sie es brauchen, ist {PHONE}.",
        f"Bezahlt mit Karte {CARD}.",
        "Ich habe sie 2019 bei Rossmann in Graz gesehen.",
    ),
    "el": (
        "Με λένε Γιώργο Παπαδόπουλο.",
        "Γιώργο Παπαδόπουλο",
        f"Το κινητό μου, αν το χρειαστείτε, είναι {PHONE}.",
        f"Πλήρωσα με κάρτα {CARD}.",
        "Την είδα στο Lidl στη Θεσσαλονίκη το 2019.",
    ),
    "en": (
        "My name is Kevin Walsh.",
        "Kevin Walsh",
        f"My mobile, if you need it, is {PHONE}.",
        f"I paid by card {CARD}.",
        "I saw it in a Tesco in Leeds in 2019 for £12.99.",
    ),
    "es": (
        "Me llamo Lucía García.",
        "Lucía García",
        f"Mi móvil, por si lo necesitan, es {PHONE}.",
        f"Pagué con tarjeta {CARD}.",
        "La vi en un Mercadona de Valencia en 2019.",
    ),
    "et": (
        "Minu nimi on Kadri Tamm.",
        "Kadri Tamm",
        f"Minu mobiil, kui vaja, on {PHONE}.",
        f"Maksin kaardiga {CARD}.",
        "Nägin seda Tartu Rimis 2019. aastal.",
    ),
    "fi": (
        "Nimeni on Laura Virtanen.",
        "Laura Virtanen",
        f"Puhelinnumeroni, jos tarvitsette sitä, on {PHONE}.",
        f"Maksoin kortilla {CARD}.",
        "Näin sen Prismassa Tampereella vuonna 2019.",
    ),
    "fr": (
        "Je m'appelle Julien Moreau.",
        "Julien Moreau",
        f"Mon portable, si besoin, est le {PHONE}.",
        f"J'ai payé avec la carte {CARD}.",
        "Je l'ai vu chez Carrefour à Lyon en 2019.",
    ),
    "ga": (
        "Is mise Seán Ó Briain.",
        "Seán Ó Briain",
        f"Mo ghuthán póca, má theastaíonn sé, ná {PHONE}.",
        f"D'íoc mé le cárta {CARD}.",
        "Chonaic mé é i Tesco i nGaillimh in 2019.",
    ),
    "gd": (
        "Is mise Iain MacLeòid.",
        "Iain MacLeòid",
        f"Am fòn-làimhe agam, ma tha feum agaibh air, {PHONE}.",
        f"Phàigh mi le cairt {CARD}.",
        "Chunnaic mi e ann an Tesco ann an Inbhir Nis ann an 2019.",
    ),
    "hr": (
        "Zovem se Ivana Horvat.",
        "Ivana Horvat",
        f"Moj mobitel, ako vam zatreba, je {PHONE}.",
        f"Platila sam karticom {CARD}.",
        "Vidjela sam je u Konzumu u Splitu 2019.",
    ),
    "hu": (
        "A nevem Nagy Péter.",
        "Nagy Péter",
        f"A mobilom, ha szükségük lenne rá, {PHONE}.",
        f"Kártyával fizettem: kártya {CARD}.",
        "Egy debreceni Tescóban láttam 2019-ben.",
    ),
    "is": (
        "Ég heiti Jón Jónsson.",
        "Jón Jónsson",
        f"Farsíminn minn, ef þið þurfið, er {PHONE}.",
        f"Ég borgaði með korti {CARD}.",
        "Ég sá hana í Bónus í Reykjavík árið 2019.",
    ),
    "it": (
        "Mi chiamo Giulia Rossi.",
        "Giulia Rossi",
        f"Il mio cellulare, se serve, è {PHONE}.",
        f"Ho pagato con la carta {CARD}.",
        "L'ho vista alla Coop di Bologna nel 2019.",
    ),
    "lb": (
        "Ech heeschen Jang Schmit.",
        "Jang Schmit",
        f"Mäin Handy, wann Dir et braucht, ass {PHONE}.",
        f"Ech hunn mat der Kaart bezuelt, Kaart {CARD}.",
        "Ech hunn se 2019 am Cactus zu Esch gesinn.",
    ),
    "lt": (
        "Mano vardas yra Tomas Kazlauskas.",
        "Tomas Kazlauskas",
        f"Mano telefonas, jei reikėtų, yra {PHONE}.",
        f"Mokėjau kortele {CARD}.",
        "Mačiau jį Maximoje Kaune 2019 metais.",
    ),
    "lv": (
        "Mani sauc Anna Bērziņa.",
        "Anna Bērziņa",
        f"Mans tālrunis, ja vajag, ir {PHONE}.",
        f"Maksāju ar karti {CARD}.",
        "Redzēju to Rimi veikalā Rīgā 2019. gadā.",
    ),
    "mk": (
        "Јас се викам Марко Петровски.",
        "Марко Петровски",
        f"Мојот мобилен, ако ви треба, е {PHONE}.",
        f"Платив со картичка {CARD}.",
        "Ја видов во Рамстор во Скопје во 2019 година.",
    ),
    "mt": (
        "Jisimni Maria Borg.",
        "Maria Borg",
        f"In-numru tal-mowbajl tiegħi, jekk ikollok bżonn, {PHONE}.",
        f"Ħallast bil-card {CARD}.",
        "Rajtha f'Lidl il-Belt fl-2019.",
    ),
    "nb": (
        "Jeg heter Kari Nordmann.",
        "Kari Nordmann",
        f"Mobilen min, hvis dere trenger den, er {PHONE}.",
        f"Jeg betalte med kort {CARD}.",
        "Jeg så den på Rema i Bergen i 2019.",
    ),
    "nl": (
        "Mijn naam is Sanne de Vries.",
        "Sanne de Vries",
        f"Mijn mobiel, als u die nodig hebt, is {PHONE}.",
        f"Betaald met kaart {CARD}.",
        "Ik zag hem bij de Albert Heijn in Utrecht in 2019.",
    ),
    "pl": (
        "Nazywam się Anna Kowalska.",
        "Anna Kowalska",
        f"Moja komórka, gdyby była potrzebna, to {PHONE}.",
        f"Płaciłam kartą, karta {CARD}.",
        "Widziałam ją w Biedronce w Krakowie w 2019 roku.",
    ),
    "pt": (
        "Chamo-me Rita Silva.",
        "Rita Silva",
        f"O meu telemóvel, se precisarem, é {PHONE}.",
        f"Paguei com o cartão {CARD}.",
        "Vi-a no Continente em Braga em 2019.",
    ),
    "ro": (
        "Mă numesc Andrei Popescu.",
        "Andrei Popescu",
        f"Mobilul meu, dacă aveți nevoie, este {PHONE}.",
        f"Am plătit cu cardul {CARD}.",
        "Am văzut-o la Kaufland în Cluj în 2019.",
    ),
    "ru": (
        "Меня зовут Ольга Иванова.",
        "Ольга Иванова",
        f"Мой мобильный, если понадобится, {PHONE}.",
        f"Платила картой, карта {CARD}.",
        "Видела её в «Пятёрочке» в Казани в 2019 году.",
    ),
    "sk": (
        "Volám sa Peter Horváth.",
        "Peter Horváth",
        f"Môj mobil, ak by ste ho potrebovali, je {PHONE}.",
        f"Platil som kartou {CARD}.",
        "Videl som ju v Tescu v Košiciach v roku 2019.",
    ),
    "sl": (
        "Ime mi je Maja Novak.",
        "Maja Novak",
        f"Moj mobitel, če ga boste potrebovali, je {PHONE}.",
        f"Plačala sem s kartico {CARD}.",
        "Videla sem jo v Sparu v Mariboru leta 2019.",
    ),
    "sv": (
        "Jag heter Erik Lindqvist.",
        "Erik Lindqvist",
        f"Min mobil, om ni behöver den, är {PHONE}.",
        f"Jag betalade med kort {CARD}.",
        "Jag såg den på ICA i Göteborg 2019.",
    ),
    "uk": (
        "Мене звати Оксана Коваленко.",
        "Оксана Коваленко",
        f"Мій мобільний, якщо знадобиться, {PHONE}.",
        f"Платила карткою, картка {CARD}.",
        "Бачила її в АТБ у Львові у 2019 році.",
    ),
}


def test_table_covers_the_site_languages() -> None:
    from ingest.i18n import LANGUAGES  # the interface offers exactly the site's languages

    assert set(TABLE) == set(LANGUAGES)


def _redact(text: str, lang: str) -> tuple[str, Counter[RedactionKind]]:
    counts: Counter[RedactionKind] = Counter()
    return redact_text(text, counts, lang), counts


@pytest.mark.parametrize("lang", sorted(TABLE))
@pytest.mark.parametrize("known", [True, False], ids=["language-known", "language-und"])
def test_self_introduction(lang: str, known: bool) -> None:
    intro, name, *_ = TABLE[lang]
    out, counts = _redact(intro, lang if known else "und")
    assert name not in out
    assert counts["PERSON"] == 1


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_contact_word_several_words_before_the_number(lang: str) -> None:
    out, counts = _redact(TABLE[lang][2], lang)
    assert "2345678" not in out and "0171" not in out
    assert counts["PHONE"] == 1


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_card_right_after_the_word_card(lang: str) -> None:
    out, counts = _redact(TABLE[lang][3], lang)
    assert "9100" not in out and "0000" not in out
    assert counts == Counter({"CARD": 1})


@pytest.mark.parametrize("lang", sorted(TABLE))
def test_evidence_is_kept(lang: str) -> None:
    evidence = TABLE[lang][4]
    out, counts = _redact(evidence, lang)
    assert out == evidence
    assert not counts


@pytest.mark.parametrize(
    ("text", "gone"),
    [
        ("Call me on 416-555-0199 after six.", "555-0199"),
        ("Office (212)555-0143, ask for the desk.", "555-0143"),
        ("416-555-0199", "0199"),
        ("Tel. 030 1234567 x4587", "4587"),
        ("phone +44 20 7946 0958 ext. 12", "ext. 12"),
        ("Tel 0171 2345678, Durchwahl 34", "Durchwahl 34"),
    ],
)
def test_north_american_numbers_and_extensions(text: str, gone: str) -> None:
    out, counts = _redact(text, "en")
    assert gone not in out
    assert counts["PHONE"] == 1


def test_a_plain_number_without_a_card_word_is_not_a_card() -> None:
    _out, counts = _redact(f"Order {CARD}", "en")
    assert "CARD" not in counts


@pytest.mark.parametrize(
    "text",
    [
        "Lidl +49 171 2345678 2019 0171 2345678",
        "Lidl +49 171 2345678 06 12 34 56 78 2019",
    ],
)
def test_a_year_between_numbers_stays(text: str) -> None:
    out, counts = _redact(text, "und")
    assert "2019" in out
    assert counts["PHONE"] == 2
