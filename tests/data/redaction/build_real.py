# ruff: noqa: E501  (a table of sentences: one language per entry reads better than wrapped)
"""Build ``real_cases.jsonl``: real sentences in all 34 languages, with and without contact data.

Run ``python tests/data/redaction/build_real.py`` from the repository root. Each case starts with
a *real* sentence from ``tests/data/language/sentences.tsv`` (UD treebanks, Tatoeba, Leipzig via
lingua-go; sources and licences in that folder's README). The first 50 sentences of a language
(in file order) are used once each: 20 stay alone (negatives: the real sentence must come out
unchanged), 15 get a self-introduction, 10 a contact line with a phone number several words
after the contact word, 5 a card number right after the word for "card". Names are fictitious;
phone numbers are libphonenumber's example mobile numbers of the language's country, written
in national format; the card number is Luhn-valid but in no issuer range. The split (dev /
heldout) is a hash of the case id, fixed before any figure was looked at.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import phonenumbers

HERE = Path(__file__).parent
SENTENCES = HERE.parent / "language" / "sentences.tsv"
CARD = "9100 0000 0000 0000"
PER_KIND = (("neg", 20), ("intro", 15), ("contact", 10), ("card", 5))

# lang: (region, names, introductions, contact lines, card line) — written for this set.
LANGS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], str]] = {
    "bg": ("BG", ("Иван Петров", "Мария Георгиева"), ("Казвам се {name}.", "Името ми е {name}."),
           ("Телефонът ми, ако ви трябва, е {phone}.",), "Платих с карта {card}."),
    "cs": ("CZ", ("Petr Novák", "Jana Svobodová"), ("Jmenuji se {name}.", "Moje jméno je {name}."),
           ("Můj mobil, kdybyste ho potřebovali, je {phone}.",), "Platila jsem kartou {card}."),
    "da": ("DK", ("Mads Jensen", "Sofie Nielsen"), ("Jeg hedder {name}.", "Mit navn er {name}."),
           ("Min mobil, hvis I får brug for den, er {phone}.",), "Jeg betalte med kort {card}."),
    "de": ("DE", ("Anna Schmidt", "Lukas Hoffmann"), ("Ich heiße {name}.", "Mein Name ist {name}."),
           ("Mein Handy, falls Sie es brauchen, ist {phone}.",), "Bezahlt mit Karte {card}."),
    "el": ("GR", ("Γιώργος Παπαδόπουλος", "Μαρία Ιωάννου"), ("Με λένε {name}.", "Ονομάζομαι {name}."),
           ("Το κινητό μου, αν το χρειαστείτε, είναι {phone}.",), "Πλήρωσα με κάρτα {card}."),
    "en": ("GB", ("John Miller", "Sarah O'Connor"), ("My name is {name}.", "Hi, I'm {name}."),
           ("My mobile, if you need it, is {phone}.",), "I paid by card {card}."),
    "es": ("ES", ("Javier García", "Lucía Fernández"), ("Me llamo {name}.", "Mi nombre es {name}."),
           ("Mi móvil, por si lo necesitan, es el {phone}.",), "Pagué con tarjeta {card}."),
    "et": ("EE", ("Kristjan Tamm", "Mari Saar"), ("Minu nimi on {name}.", "Mina olen {name}."),
           ("Minu mobiil, kui vaja, on {phone}.",), "Maksin kaardiga {card}."),
    "fi": ("FI", ("Mikko Virtanen", "Laura Nieminen"), ("Nimeni on {name}.", "Minun nimeni on {name}."),
           ("Puhelinnumeroni, jos tarvitsette sitä, on {phone}.",), "Maksoin kortilla {card}."),
    "fr": ("FR", ("Pierre Dupont", "Amélie Laurent"), ("Je m'appelle {name}.", "Mon nom est {name}."),
           ("Mon portable, si besoin, est le {phone}.",), "J'ai payé avec la carte {card}."),
    "ga": ("IE", ("Seán Ó Briain", "Aoife Ní Bhriain"), ("Is mise {name}.", "M'ainm is {name}."),
           ("Mo ghuthán, má theastaíonn sé, ná {phone}.",), "D'íoc mé le cárta {card}."),
    "gd": ("GB", ("Iain MacLeòid", "Catrìona NicDhòmhnaill"), ("Is mise {name}.",),
           ("Am fòn agam, ma tha feum agaibh air, {phone}.",), "Phàigh mi le cairt {card}."),
    "hr": ("HR", ("Ivan Horvat", "Ana Kovačević"), ("Zovem se {name}.", "Moje ime je {name}."),
           ("Moj mobitel, ako vam zatreba, je {phone}.",), "Platila sam karticom {card}."),
    "hu": ("HU", ("Kovács Anna", "Nagy Péter"), ("A nevem {name}.",),
           ("A mobilom, ha szükségük lenne rá, {phone}.",), "Fizettem, kártya: {card}."),
    "is": ("IS", ("Jón Jónsson", "Guðrún Sigurðardóttir"), ("Ég heiti {name}.", "Nafn mitt er {name}."),
           ("Farsíminn minn, ef þið þurfið, er {phone}.",), "Ég borgaði með korti {card}."),
    "it": ("IT", ("Marco Rossi", "Giulia Bianchi"), ("Mi chiamo {name}.", "Il mio nome è {name}."),
           ("Il mio cellulare, se serve, è {phone}.",), "Ho pagato con la carta {card}."),
    "lb": ("LU", ("Jang Schmit", "Marie Weber"), ("Ech heeschen {name}.", "Mäin Numm ass {name}."),
           ("Mäin Handy, wann Dir et braucht, ass {phone}.",), "Bezuelt mat der Kaart {card}."),
    "lt": ("LT", ("Jonas Kazlauskas", "Rūta Petrauskienė"), ("Mano vardas yra {name}.", "Mane vadina {name}."),
           ("Mano telefonas, jei reikėtų, yra {phone}.",), "Mokėjau kortele {card}."),
    "lv": ("LV", ("Jānis Bērziņš", "Anna Kalniņa"), ("Mani sauc {name}.", "Mans vārds ir {name}."),
           ("Mans tālrunis, ja vajag, ir {phone}.",), "Maksāju ar karti {card}."),
    "mk": ("MK", ("Марко Петровски", "Ана Стојановска"), ("Јас се викам {name}.", "Моето име е {name}."),
           ("Мојот мобилен, ако ви треба, е {phone}.",), "Платив со картичка {card}."),
    "mt": ("MT", ("Joseph Borg", "Maria Camilleri"), ("Jisimni {name}.", "Jien jisimni {name}."),
           ("In-numru tal-mowbajl tiegħi, jekk ikollok bżonn, {phone}.",), "Ħallast bil-card {card}."),
    "nb": ("NO", ("Kari Nordmann", "Ola Hansen"), ("Jeg heter {name}.", "Mitt navn er {name}."),
           ("Mobilen min, hvis dere trenger den, er {phone}.",), "Jeg betalte med kort {card}."),
    "nn": ("NO", ("Ingrid Haugen", "Knut Bakken"), ("Eg heiter {name}.", "Namnet mitt er {name}."),
           ("Mobilen min, om de treng han, er {phone}.",), "Eg betalte med kort {card}."),
    "nl": ("NL", ("Daan de Vries", "Sanne Jansen"), ("Mijn naam is {name}.", "Ik heet {name}."),
           ("Mijn mobiel, als u die nodig hebt, is {phone}.",), "Betaald met kaart {card}."),
    "pl": ("PL", ("Jan Kowalski", "Agnieszka Nowak"), ("Nazywam się {name}.", "Mam na imię {name}."),
           ("Moja komórka, gdyby była potrzebna, to {phone}.",), "Płaciłam kartą, karta {card}."),
    "pt": ("PT", ("João Silva", "Ana Costa"), ("Chamo-me {name}.", "O meu nome é {name}."),
           ("O meu telemóvel, se precisarem, é {phone}.",), "Paguei com o cartão {card}."),
    "ro": ("RO", ("Andrei Popescu", "Ioana Ionescu"), ("Mă numesc {name}.", "Numele meu este {name}."),
           ("Mobilul meu, dacă aveți nevoie, este {phone}.",), "Am plătit cu cardul {card}."),
    "ru": ("RU", ("Иван Смирнов", "Ольга Кузнецова"), ("Меня зовут {name}.",),
           ("Мой мобильный, если понадобится, {phone}.",), "Платила картой, карта {card}."),
    "sk": ("SK", ("Martin Horváth", "Zuzana Kováčová"), ("Volám sa {name}.", "Moje meno je {name}."),
           ("Môj mobil, ak by ste ho potrebovali, je {phone}.",), "Platil som kartou {card}."),
    "sl": ("SI", ("Luka Novak", "Maja Horvat"), ("Ime mi je {name}.", "Pišem se {name}."),
           ("Moj mobitel, če ga boste potrebovali, je {phone}.",), "Plačala sem s kartico {card}."),
    "sv": ("SE", ("Erik Johansson", "Anna Lindqvist"), ("Jag heter {name}.", "Mitt namn är {name}."),
           ("Min mobil, om ni behöver den, är {phone}.",), "Jag betalade med kort {card}."),
    "uk": ("UA", ("Олександр Шевченко", "Оксана Коваленко"), ("Мене звати {name}.",),
           ("Мій мобільний, якщо знадобиться, {phone}.",), "Платила карткою, картка {card}."),
    "tr": ("TR", ("Mehmet Yılmaz", "Ayşe Demir"), ("Benim adım {name}.",),
           ("Cep telefonum, gerekirse, {phone}.",), "Kartla ödedim, kart {card}."),
    "ar": ("EG", ("أحمد حسن", "فاطمة علي"), ("اسمي {name}.",),
           ("رقم هاتفي إذا احتجتم إليه {phone}.",), "دفعت ببطاقة {card}."),
}  # fmt: skip


def phone(region: str) -> str:
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def main() -> None:
    with SENTENCES.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    cases = []
    for lang, (region, names, intros, contacts, card_line) in LANGS.items():
        real = [r["text"] for r in rows if r["lang"] == lang][:50]
        assert len(real) == 50, lang
        i = 0
        for kind, n in PER_KIND:
            for j in range(n):
                sentence = real[i]
                i += 1
                name = names[j % len(names)]
                pii: list[dict[str, str]] = []
                if kind == "neg":
                    text = sentence
                elif kind == "intro":
                    text = f"{sentence} {intros[j % len(intros)].format(name=name)}"
                    pii = [{"kind": "PERSON", "text": name}]
                elif kind == "contact":
                    number = phone(region)
                    text = f"{sentence} {contacts[j % len(contacts)].format(phone=number)}"
                    pii = [{"kind": "PHONE", "text": number}]
                else:
                    text = f"{sentence} {card_line.format(card=CARD)}"
                    pii = [{"kind": "CARD", "text": CARD}]
                case_id = f"real-{kind}-{lang}-{j:02d}"
                split = "dev" if hashlib.sha256(case_id.encode()).digest()[0] < 128 else "heldout"
                cases.append(
                    {
                        "id": case_id,
                        "lang": lang,
                        "split": split,
                        "text": text,
                        "pii": pii,
                        "keep": [sentence],
                    }
                )
    out = HERE / "real_cases.jsonl"
    out.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), encoding="utf-8"
    )
    print(f"{len(cases)} cases -> {out}")


if __name__ == "__main__":
    main()
