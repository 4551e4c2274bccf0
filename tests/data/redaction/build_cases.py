"""Build the templated part of the redaction evaluation set (``cases.jsonl``), deterministically.

Run ``python tests/data/redaction/build_cases.py`` from the repository root. The templates and value
pools were written before the redaction rules; see README.md for how the set is split and used.
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent

# --- value pools (fictitious people; real shop chains, brands and towns as evidence) ---

NAMES: dict[str, list[str]] = {
    "en": ["John Miller", "Sarah O'Connor", "David Clarke", "Emily Watson"],
    "de": ["Anna Schmidt", "Jürgen Müller", "Katrin Weiß", "Lukas Hoffmann"],
    "fr": ["Pierre Dupont", "Amélie Laurent", "Jean-Luc Moreau", "Sophie Girard"],
    "it": ["Marco Rossi", "Giulia Bianchi", "Francesco Esposito", "Chiara Ricci"],
    "es": ["Javier García", "Lucía Fernández", "Carlos Martínez", "Elena Ruiz"],
    "pl": ["Jan Kowalski", "Agnieszka Nowak", "Paweł Wiśniewski", "Katarzyna Zielińska"],
    "nl": ["Daan de Vries", "Sanne Jansen", "Pieter van Dijk", "Lotte Bakker"],
    "pt": ["João Silva", "Ana Costa", "Miguel Santos", "Beatriz Oliveira"],
    "cs": ["Petr Novák", "Jana Svobodová", "Tomáš Dvořák", "Lucie Černá"],
    "sk": ["Martin Horváth", "Zuzana Kováčová", "Peter Varga", "Eva Tóthová"],
    "sl": ["Luka Novak", "Maja Horvat", "Matej Kranjc", "Nina Zupančič"],
    "hr": ["Ivan Horvat", "Ana Kovačević", "Marko Babić", "Petra Marić"],
    "bg": ["Иван Петров", "Мария Георгиева", "Георги Димитров", "Елена Николова"],
    "ro": ["Andrei Popescu", "Ioana Ionescu", "Mihai Stan", "Elena Dumitru"],
    "hu": ["Kovács Anna", "Nagy Péter", "Szabó Eszter", "Tóth Gábor"],
    "fi": ["Mikko Virtanen", "Anna Korhonen", "Jussi Mäkinen", "Laura Nieminen"],
    "et": ["Kristjan Tamm", "Mari Saar", "Andres Sepp", "Liis Mägi"],
    "lv": ["Jānis Bērziņš", "Anna Kalniņa", "Pēteris Ozols", "Ilze Liepa"],
    "lt": ["Jonas Kazlauskas", "Rūta Petrauskienė", "Tomas Jankauskas", "Eglė Vasiliauskaitė"],
    "sv": ["Erik Johansson", "Anna Lindqvist", "Lars Karlsson", "Maja Nilsson"],
    "da": ["Mads Jensen", "Sofie Nielsen", "Rasmus Hansen", "Freja Pedersen"],
    "el": ["Γιώργος Παπαδόπουλος", "Μαρία Ιωάννου", "Νίκος Κωνσταντίνου", "Ελένη Γεωργίου"],
    "ga": ["Seán Ó Briain", "Aoife Ní Bhriain", "Ciarán Mac Cárthaigh", "Niamh Ní Dhomhnaill"],
    "mt": ["Joseph Borg", "Maria Camilleri", "Mark Vella", "Rita Farrugia"],
    "ru": ["Иван Смирнов", "Ольга Кузнецова", "Дмитрий Попов", "Наталья Волкова"],
    "uk": ["Олександр Шевченко", "Оксана Коваленко", "Андрій Бондаренко", "Ірина Ткаченко"],
    "tr": ["Mehmet Yılmaz", "Ayşe Demir", "Mustafa Kaya", "Elif Çelik"],
    "ar": ["أحمد حسن", "فاطمة علي", "محمد إبراهيم", "مريم خالد"],
}

SHOPS = [
    "Lidl",
    "Aldi",
    "Rossmann",
    "Carrefour",
    "Biedronka",
    "Primark",
    "IKEA",
    "Kaufland",
    "Tesco",
    "Mercadona",
    "Albert Heijn",
    "Spar",
    "Decathlon",
    "Pepco",
    "Action",
    "Migros",
]
BRANDS = ["Eastpak", "Samsonite", "Nike", "Adidas", "Puma", "Lego", "Milka", "Haribo", "Kipling"]
CITIES = {
    "en": ["Manchester", "Dublin"],
    "de": ["Graz", "Köln"],
    "fr": ["Lyon", "Lille"],
    "it": ["Bologna", "Torino"],
    "es": ["Sevilla", "Valencia"],
    "pl": ["Kraków", "Gdańsk"],
    "nl": ["Utrecht", "Eindhoven"],
    "pt": ["Porto", "Braga"],
    "cs": ["Brno", "Ostrava"],
    "sk": ["Košice", "Žilina"],
    "sl": ["Maribor", "Celje"],
    "hr": ["Split", "Rijeka"],
    "bg": ["Пловдив", "Варна"],
    "ro": ["Cluj", "Iași"],
    "hu": ["Debrecen", "Szeged"],
    "fi": ["Tampere", "Oulu"],
    "et": ["Tartu", "Pärnu"],
    "lv": ["Rīga", "Liepāja"],
    "lt": ["Kaunas", "Vilnius"],
    "sv": ["Göteborg", "Malmö"],
    "da": ["Aarhus", "Odense"],
    "el": ["Θεσσαλονίκη", "Πάτρα"],
    "ga": ["Gaillimh", "Corcaigh"],
    "mt": ["Sliema", "Birkirkara"],
    "ru": ["Казань", "Самара"],
    "uk": ["Львів", "Одеса"],
    "tr": ["İzmir", "Bursa"],
    "ar": ["Berlin", "Wien"],
}

# Evidence sentence per language: {shop} {brand} {city}.
SEEN = {
    "en": "I saw this {brand} bag at {shop} in {city} last spring.",
    "de": "Die Tasche von {brand} habe ich bei {shop} in {city} gesehen.",
    "fr": "J'ai vu ce sac {brand} chez {shop} à {city}.",
    "it": "Ho visto questa borsa {brand} da {shop} a {city}.",
    "es": "Vi esta mochila {brand} en {shop} de {city}.",
    "pl": "Widziałem ten plecak {brand} w sklepie {shop} w mieście {city}.",
    "nl": "Ik heb deze {brand} tas bij {shop} in {city} gezien.",
    "pt": "Vi esta mochila {brand} no {shop} em {city}.",
    "cs": "Tuto tašku {brand} jsem viděl v {shop} ve městě {city}.",
    "sk": "Túto tašku {brand} som videl v {shop} v meste {city}.",
    "sl": "To torbo {brand} sem videl v trgovini {shop} v mestu {city}.",
    "hr": "Ovu torbu {brand} vidio sam u {shop} u gradu {city}.",
    "bg": "Видях тази чанта {brand} в {shop} в {city}.",
    "ro": "Am văzut acest rucsac {brand} la {shop} în {city}.",
    "hu": "Ezt a {brand} táskát a {shop} üzletben láttam, {city} városban.",
    "fi": "Näin tämän {brand} laukun {shop}-myymälässä, {city}.",
    "et": "Nägin seda {brand} kotti {shop} poes, {city}.",
    "lv": "Es redzēju šo {brand} somu veikalā {shop}, {city}.",
    "lt": "Mačiau šią {brand} kuprinę parduotuvėje {shop}, {city}.",
    "sv": "Jag såg den här {brand} väskan på {shop} i {city}.",
    "da": "Jeg så denne {brand} taske i {shop} i {city}.",
    "el": "Είδα αυτή την τσάντα {brand} στο {shop} στην {city}.",
    "ga": "Chonaic mé an mála {brand} seo i {shop} i {city}.",
    "mt": "Rajt din il-borża {brand} f'{shop} f'{city}.",
    "ru": "Я видел эту сумку {brand} в магазине {shop} в городе {city}.",
    "uk": "Я бачив цю сумку {brand} у магазині {shop} у місті {city}.",
    "tr": "Bu {brand} çantayı {city} şehrindeki {shop} mağazasında gördüm.",
    "ar": "رأيت هذه الحقيبة {brand} في متجر {shop} في مدينة {city}.",
}

# Self-identification, written from how people introduce themselves in each language.
INTRO = {
    "en": ["My name is {name}.", "Hi, my name's {name} and I think I know this bag."],
    "de": ["Ich heiße {name}.", "Mein Name ist {name}, ich wohne in der Nähe."],
    "fr": ["Je m'appelle {name}.", "Bonjour, mon nom est {name}."],
    "it": ["Mi chiamo {name}.", "Salve, il mio nome è {name}."],
    "es": ["Me llamo {name}.", "Hola, mi nombre es {name}."],
    "pl": ["Nazywam się {name}.", "Dzień dobry, nazywam się {name} i chcę pomóc."],
    "nl": ["Mijn naam is {name}.", "Hallo, ik heet {name}."],
    "pt": ["Chamo-me {name}.", "Olá, o meu nome é {name}."],
    "cs": ["Jmenuji se {name}.", "Dobrý den, jmenuji se {name}."],
    "sk": ["Volám sa {name}.", "Dobrý deň, moje meno je {name}."],
    "sl": ["Ime mi je {name}.", "Pozdravljeni, moje ime je {name}."],
    "hr": ["Zovem se {name}.", "Pozdrav, moje ime je {name}."],
    "bg": ["Казвам се {name}.", "Здравейте, казвам се {name}."],
    "ro": ["Mă numesc {name}.", "Bună ziua, numele meu este {name}."],
    "hu": ["A nevem {name}.", "Jó napot, a nevem {name}."],
    "fi": ["Nimeni on {name}.", "Hei, nimeni on {name}."],
    "et": ["Minu nimi on {name}.", "Tere, minu nimi on {name}."],
    "lv": ["Mani sauc {name}.", "Labdien, mans vārds ir {name}."],
    "lt": ["Mano vardas {name}.", "Laba diena, mano vardas yra {name}."],
    "sv": ["Jag heter {name}.", "Hej, mitt namn är {name}."],
    "da": ["Jeg hedder {name}.", "Hej, mit navn er {name}."],
    "el": ["Με λένε {name}.", "Γεια σας, ονομάζομαι {name}."],
    "ga": ["Is mise {name}.", "Dia duit, is mise {name}."],
    "mt": ["Jisimni {name}.", "Bongu, jien jisimni {name}."],
    "ru": ["Меня зовут {name}.", "Здравствуйте, меня зовут {name}."],
    "uk": ["Мене звати {name}.", "Добрий день, мене звати {name}."],
    "tr": ["Benim adım {name}.", "Merhaba, adım {name}."],
    "ar": ["اسمي {name}.", "مرحبا، اسمي {name}."],
}

CLOSING = {
    "en": "Kind regards",
    "de": "Viele Grüße",
    "fr": "Cordialement",
    "it": "Cordiali saluti",
    "es": "Saludos",
    "pl": "Pozdrawiam",
    "nl": "Met vriendelijke groet",
    "pt": "Cumprimentos",
    "cs": "S pozdravem",
    "sk": "S pozdravom",
    "sl": "Lep pozdrav",
    "hr": "Srdačan pozdrav",
    "bg": "Поздрави",
    "ro": "Cu stimă",
    "hu": "Üdvözlettel",
    "fi": "Terveisin",
    "et": "Lugupidamisega",
    "lv": "Ar cieņu",
    "lt": "Pagarbiai",
    "sv": "Vänliga hälsningar",
    "da": "Venlig hilsen",
    "el": "Με εκτίμηση",
    "ga": "Le meas",
    "mt": "Grazzi",
    "ru": "С уважением",
    "uk": "З повагою",
    "tr": "Saygılarımla",
    "ar": "مع التحية",
}

CONTACT = {
    "en": ["You can reach me at {email}.", "Call me on {phone} if you need more."],
    "de": ["Erreichbar bin ich unter {email}.", "Meine Handynummer: {phone}"],
    "fr": ["Mon mail : {email}", "Vous pouvez m'appeler au {phone}."],
    "it": ["La mia email è {email}.", "Potete chiamarmi al {phone}."],
    "es": ["Mi correo es {email}.", "Mi teléfono es el {phone}."],
    "pl": ["Mój e-mail to {email}.", "Proszę dzwonić pod numer {phone}."],
    "nl": ["Mail me via {email}.", "Bel me gerust op {phone}."],
    "pt": ["O meu email é {email}.", "Liguem-me para o {phone}."],
    "cs": ["Můj e-mail je {email}.", "Zavolejte mi na {phone}."],
    "ro": ["Emailul meu este {email}.", "Mă puteți suna la {phone}."],
    "ru": ["Моя почта {email}.", "Звоните мне по номеру {phone}."],
    "tr": ["E-posta adresim {email}.", "Beni {phone} numarasından arayabilirsiniz."],
    "sv": ["Min e-post är {email}.", "Ring mig på {phone}."],
}

PHONES = {
    "en": ["+44 7911 123456", "07911 123456", "+44 (0)20 7946 0958", "020 7946 0958"],
    "de": [
        "+49 171 2345678",
        "0171 2345678",
        "0171/2345678",
        "(030) 12345678",
        "+49 (0)30 1234567",
        "0049 171 2345678",
        "+43 664 1234567",
        "0664 123 45 67",
    ],
    "fr": ["+33 6 12 34 56 78", "06 12 34 56 78", "06.12.34.56.78", "01-42-68-53-00"],
    "it": ["+39 347 123 4567", "347 123 4567", "06 6982 1234", "+39 02 1234 5678"],
    "es": ["+34 612 34 56 78", "612 345 678", "91 123 45 67", "+34 612-345-678"],
    "pl": ["+48 601 234 567", "601 234 567", "601-234-567", "22 123 45 67"],
    "nl": ["+31 6 12345678", "06-12345678", "06 1234 5678", "020 123 4567"],
    "pt": ["+351 912 345 678", "912 345 678", "21 123 4567"],
    "cs": ["+420 601 123 456", "601 123 456", "+420 222 123 456"],
    "ro": ["+40 721 234 567", "0721 234 567", "0721.234.567"],
    "ru": ["+7 (916) 123-45-67", "8 (916) 123-45-67", "+7 916 123 45 67", "8-916-123-45-67"],
    "tr": ["+90 532 123 45 67", "0532 123 45 67", "0 (532) 123 45 67"],
    "sv": ["+46 70 123 45 67", "070-123 45 67", "08-123 456 78"],
}

EMAILS = {
    "plain": [
        "anna.schmidt@gmx.de",
        "j.kowalski84@wp.pl",
        "marco_rossi@libero.it",
        "p.dupont@orange.fr",
        "lucia.fdez@gmail.com",
        "mehmet.yilmaz@hotmail.com",
        "erik+tips@protonmail.com",
        "d.devries@ziggo.nl",
        "ivan.smirnov@mail.ru",
        "o.kovalenko@ukr.net",
        "joao.silva@sapo.pt",
        "petr.novak@seznam.cz",
    ],
    "obfuscated": [
        "anna.schmidt at gmx dot de",
        "jan(at)web(dot)de",
        "m.rossi [at] libero [dot] it",
        "pdupont (at) orange (dot) fr",
        "lucia AT gmail DOT com",
        "kowalski84 at wp.pl",
        "erik {at} protonmail {dot} com",
        "daan@ziggo dot nl",
        "ivan [at] mail [dot] ru",
        "mehmet.yilmaz (at) hotmail.com",
    ],
}

ADDRESS = {
    "en": ("I live at {addr}, just round the corner.", ["14 Baker Street", "27 Oak Road"]),
    "de": ("Ich wohne in der {addr}.", ["Hauptstraße 12", "Lindenweg 3a"]),
    "fr": ("J'habite au {addr}.", ["12 rue de la Paix", "5 avenue Victor Hugo"]),
    "it": ("Abito in {addr}.", ["via Roma 15", "Via Garibaldi 7"]),
    "es": ("Vivo en la {addr}.", ["calle Mayor 23", "Calle de Alcalá 45"]),
    "pl": ("Mieszkam przy {addr}.", ["ul. Długiej 5", "ulicy Polnej 12/4"]),
    "nl": ("Ik woon op de {addr}.", ["Kerkstraat 5", "Dorpsweg 112"]),
    "ru": ("Я живу по адресу {addr}.", ["ул. Ленина, д. 5", "улица Пушкина 10"]),
}

FIRST_PARTY_NEG = {
    # Third parties named as part of the lead: must be kept (not the tipster's identity).
    "en": "The shop owner, Mr Kowalski, said they sold out in {city}.",
    "de": "Der Verkäufer, Herr Becker, meinte, die gibt es nur bei {shop}.",
    "fr": "La vendeuse, Madame Leroy, m'a dit que {shop} en vendait à {city}.",
    "it": "Il commesso, signor Conti, ha detto che {shop} li vende a {city}.",
    "es": "La dependienta, la señora Ortega, dijo que en {shop} de {city} los venden.",
    "pl": "Sprzedawca, pan Zieliński, powiedział, że {shop} w {city} je sprzedawał.",
}

NUM_NEG = [
    # Numbers that are evidence or harmless and must not become [PHONE]/[CARD]/[IBAN]/[IP].
    (
        "en",
        "EAN on the tag: 4006381333931, bought at {shop} for 12,99 €.",
        ["4006381333931", "12,99"],
    ),
    (
        "de",
        "Strichcode 5901234123457, gekauft am 12.03.2024 bei {shop}.",
        ["5901234123457", "12.03.2024"],
    ),
    (
        "fr",
        "Référence article 802.123.45 chez {shop}, prix 1.299,00 €.",
        ["802.123.45", "1.299,00"],
    ),
    (
        "it",
        "Codice prodotto 8001234567890 visto da {shop} il 2023-11-05.",
        ["8001234567890", "2023-11-05"],
    ),
    ("es", "Lo compré en 2019 en {shop}, ticket 0045 1234 5678.", ["2019"]),
    (
        "pl",
        "Kod kreskowy 5906827001234, cena 49,99 zł, {shop}, 15.06.2022 r.",
        ["5906827001234", "49,99", "15.06.2022"],
    ),
    (
        "nl",
        "Artikelnummer 12345678 bij {shop}, gekocht tussen 2018-2020.",
        ["12345678", "2018-2020"],
    ),
    (
        "en",
        "Model number SM-G991B/DS, version 2.4.1.3 of the app, size 40 x 30 x 15 cm.",
        ["SM-G991B/DS", "40 x 30 x 15"],
    ),
    (
        "de",
        "Öffnungszeiten 08:00-20:00, PLZ 80331 München, {shop} Filiale 1234.",
        ["08:00-20:00", "80331", "München"],
    ),
    (
        "en",
        "Order 2021-0457-8891 from {shop}, delivered 03/04/2021 to the {city} store.",
        ["03/04/2021"],
    ),
    (
        "ru",
        "Штрихкод 4607001234567, куплено в {shop} 01.02.2020 за 1 299 руб.",
        ["4607001234567", "01.02.2020"],
    ),
    (
        "tr",
        "Barkod 8690123456789, {shop} mağazası, fiyat 249,90 TL, 2022 yılı.",
        ["8690123456789", "249,90"],
    ),
]

IBAN_LENGTHS = {
    "DE": 22,
    "AT": 20,
    "FR": 27,
    "IT": 27,
    "ES": 24,
    "PL": 28,
    "NL": 18,
    "BE": 16,
    "PT": 25,
    "CZ": 24,
    "RO": 24,
    "GB": 22,
}
IBAN_SENT = {
    "en": "If there is a reward, my IBAN is {iban}.",
    "de": "Falls es eine Belohnung gibt: IBAN {iban}",
    "fr": "Pour la récompense, mon IBAN : {iban}.",
    "it": "Per la ricompensa, IBAN {iban}",
    "es": "Mi cuenta para la recompensa es {iban}.",
    "pl": "Numer konta: {iban}",
    "nl": "Mijn rekeningnummer is {iban}.",
}
CARD_SENT = {
    "en": "I paid with my card {card} so you can check the receipt.",
    "de": "Bezahlt habe ich mit der Karte {card}.",
    "fr": "J'ai payé avec la carte {card}.",
    "it": "Ho pagato con la carta {card}.",
    "es": "Pagué con la tarjeta {card}.",
    "pl": "Płaciłem kartą {card}.",
}
IP_SENT = {
    "en": "My IP was {ip} when I uploaded the photo.",
    "de": "Meine IP-Adresse ist {ip}.",
    "fr": "Mon adresse IP : {ip}",
    "pl": "Moje IP to {ip}.",
    "es": "Mi IP es {ip}.",
}
IPS = [
    "84.112.45.201",
    "91.64.3.17",
    "2a02:810d:4b3f:1a00:8c2e:1f4:9b1a:3c7d",
    "188.23.140.9",
    "2001:db8:85a3::8a2e:370:7334",
    "176.198.22.4",
    "79.140.12.250",
    "2003:e5:2f1c:9900::1",
]
HANDLE_SENT = {
    "en": (
        "Posted by {h} on Mastodon, I saw the bag at {shop}.",
        ["@tipster_anna", "@jan.k@mastodon.social"],
    ),
    "de": (
        "Ich bin {h} auf Instagram, die Tasche war bei {shop}.",
        ["@anna_schmidt84", "@katrin.w"],
    ),
    "fr": ("Mon compte : {h}, le sac venait de {shop}.", ["@pierre_dpt", "@amelie@piaille.fr"]),
    "pl": ("Pisze {h}, plecak kupiony w {shop}.", ["@jankowal", "@aga_nowak@mastodon.social"]),
    "es": ("Soy {h} en TikTok, lo vi en {shop}.", ["@lucia.fdez", "@carlitos_m"]),
}
PROFILE_URLS = [
    "https://twitter.com/anna_s84",
    "https://x.com/jankowal/status/1734567890123456789",
    "https://www.facebook.com/katrin.weiss.37",
    "https://www.instagram.com/marco.rossi87/",
    "https://www.tiktok.com/@lucia.fdez",
    "https://mastodon.social/@pdupont",
    "https://vk.com/id123456789",
    "https://t.me/ivan_smirnov",
    "https://www.facebook.com/profile.php?id=100012345678901",
    "https://www.linkedin.com/in/erik-johansson-1a2b3c",
]
PROFILE_SENT = [
    "My profile: {url} - the bag is from {shop}.",
    "Hier mein Profil {url}, gesehen bei {shop}.",
    "Mon profil {url} ; vu chez {shop}.",
    "Mój profil: {url}, widziane w {shop}.",
]
TRACKED_URLS = [
    (
        "https://www.zalando.de/eastpak-padded-rucksack-ea112a0cv.html?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        "https://www.zalando.de/eastpak-padded-rucksack-ea112a0cv.html",
        ["utm_source=newsletter", "utm_medium=email", "utm_campaign=spring"],
    ),
    (
        "https://www.amazon.de/dp/B07XJ8C8F5?psc=1&fbclid=IwAR2xYz9kLmN0pQ",
        "https://www.amazon.de/dp/B07XJ8C8F5",
        ["fbclid=IwAR2xYz9kLmN0pQ"],
    ),
    (
        "https://www.lidl.de/p/tasche/p100345678?gclid=Cj0KCQiA4Y-sBhC6ARIsAGXF1g&sessionid=9f8e7d6c5b",
        "https://www.lidl.de/p/tasche/p100345678",
        ["gclid=Cj0KCQiA4Y-sBhC6ARIsAGXF1g", "sessionid=9f8e7d6c5b"],
    ),
    (
        "https://www.ikea.com/pl/pl/p/frakta-torba-80148903/?user_id=5512399&ref=share",
        "https://www.ikea.com/pl/pl/p/frakta-torba-80148903/",
        ["user_id=5512399"],
    ),
    (
        "https://www.allegro.pl/oferta/plecak-eastpak-123456789?utm_campaign=abc&email=jan.k%40wp.pl",
        "https://www.allegro.pl/oferta/plecak-eastpak-123456789",
        ["utm_campaign=abc", "email=jan.k%40wp.pl"],
    ),
    (
        "https://www.decathlon.fr/p/sac-a-dos-20l/_/R-p-123456?mc_cid=8a7b6c&mc_eid=12ab34cd56",
        "https://www.decathlon.fr/p/sac-a-dos-20l/_/R-p-123456",
        ["mc_cid=8a7b6c", "mc_eid=12ab34cd56"],
    ),
]
TRACKED_SENT = [
    "Same bag here: {url}",
    "Die gleiche Tasche gibt es hier {url} .",
    "Le même sac : {url}",
    "Ten sam plecak: {url}",
]


def iban(rng: random.Random, country: str) -> str:
    length = IBAN_LENGTHS[country]
    bban = "".join(rng.choice("0123456789") for _ in range(length - 4))
    if country == "GB":
        bban = "NWBK" + bban[4:]
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    return f"{country}{check:02d}{bban}"


def card(rng: random.Random, prefix: str, length: int) -> str:
    digits = [int(c) for c in prefix] + [rng.randrange(10) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d2 = d * 2 if i % 2 == 0 else d
        total += d2 - 9 if d2 > 9 else d2
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def group(s: str, size: int, sep: str = " ") -> str:
    return sep.join(s[i : i + size] for i in range(0, len(s), size))


def split_of(case_id: str) -> str:
    # A stable half of the cases is held out: rules are tuned on "dev" only.
    return "heldout" if hashlib.sha256(case_id.encode()).digest()[0] % 2 else "dev"


def build() -> list[dict[str, Any]]:
    rng = random.Random(20240611)
    cases: list[dict[str, Any]] = []

    def add(kind: str, lang: str, text: str, pii: list[tuple[str, str]], keep: list[str]) -> None:
        case_id = f"{kind}-{lang}-{len(cases):04d}"
        for _, span in pii:
            assert span in text, (case_id, span)
        for k in keep:
            assert k in text, (case_id, k)
        cases.append(
            {
                "id": case_id,
                "lang": lang,
                "split": split_of(case_id),
                "text": text,
                "pii": [{"kind": k, "text": s} for k, s in pii],
                "keep": keep,
            }
        )

    def seen(lang: str) -> tuple[str, list[str]]:
        shop, brand, city = rng.choice(SHOPS), rng.choice(BRANDS), rng.choice(CITIES[lang])
        return SEEN[lang].format(shop=shop, brand=brand, city=city), [shop, brand, city]

    for lang, intros in INTRO.items():
        for i, intro in enumerate(intros):
            for name in NAMES[lang][i * 2 : i * 2 + 2]:
                s, keep = seen(lang)
                add("intro", lang, f"{intro.format(name=name)} {s}", [("PERSON", name)], keep)
        # signature after a closing line
        s, keep = seen(lang)
        name = rng.choice(NAMES[lang])
        add("sig", lang, f"{s}\n\n{CLOSING[lang]},\n{name}", [("PERSON", name)], keep)
        # pure evidence, nothing to redact
        s, keep = seen(lang)
        add("neg", lang, s, [], keep)

    for lang, (email_t, phone_t) in CONTACT.items():
        for style in ("plain", "obfuscated"):
            email = rng.choice(EMAILS[style])
            s, keep = seen(lang)
            add("email", lang, f"{s} {email_t.format(email=email)}", [("EMAIL", email)], keep)
        for phone in PHONES[lang]:
            s, keep = seen(lang)
            add("phone", lang, f"{s} {phone_t.format(phone=phone)}", [("PHONE", phone)], keep)

    for i, (lang, sent) in enumerate(IBAN_SENT.items()):
        for country in list(IBAN_LENGTHS)[i::3][:3]:
            value = iban(rng, country)
            text_value = group(value, 4) if rng.random() < 0.6 else value
            add("iban", lang, sent.format(iban=text_value), [("IBAN", text_value)], [])
    for lang, sent in CARD_SENT.items():
        for prefix, length, size, sep in (
            ("4", 16, 4, " "),
            ("51", 16, 4, "-"),
            ("37", 15, 0, ""),
            ("4", 16, 0, ""),
        ):
            value = card(rng, prefix, length)
            text_value = group(value, size, sep) if size else value
            s, keep = seen(lang if lang in SEEN else "en")
            add("card", lang, f"{sent.format(card=text_value)} {s}", [("CARD", text_value)], keep)
    for lang, sent in IP_SENT.items():
        for ip in rng.sample(IPS, 4):
            add("ip", lang, sent.format(ip=ip), [("IP", ip)], [])
    for lang, (sent, handles) in HANDLE_SENT.items():
        for h in handles:
            shop = rng.choice(SHOPS)
            add("handle", lang, sent.format(h=h, shop=shop), [("HANDLE", h)], [shop])
    for i, url in enumerate(PROFILE_URLS):
        shop = rng.choice(SHOPS)
        add(
            "profile",
            "en",
            PROFILE_SENT[i % 4].format(url=url, shop=shop),
            [("HANDLE", url)],
            [shop],
        )
    for i, (url, clean, tokens) in enumerate(TRACKED_URLS):
        add(
            "url",
            "en",
            TRACKED_SENT[i % 4].format(url=url),
            [("URL_TOKEN", t) for t in tokens],
            [clean],
        )
    for lang, (sent, addrs) in ADDRESS.items():
        for addr in addrs:
            s, keep = seen(lang)
            add("address", lang, f"{sent.format(addr=addr)} {s}", [("ADDRESS", addr)], keep)
    for lang, sent in FIRST_PARTY_NEG.items():
        shop, city = rng.choice(SHOPS), rng.choice(CITIES[lang])
        who = {
            "en": "Mr Kowalski",
            "de": "Herr Becker",
            "fr": "Madame Leroy",
            "it": "signor Conti",
            "es": "señora Ortega",
            "pl": "pan Zieliński",
        }[lang]
        text = sent.format(shop=shop, city=city)
        add("third", lang, text, [], [k for k in (who, shop, city) if k in text])
    for lang, sent, keep in NUM_NEG:
        shop = rng.choice(SHOPS)
        text = sent.format(shop=shop, city="Graz")
        add("numneg", lang, text, [], [*keep, *([shop] if shop in text else [])])
    return cases


def main() -> None:
    cases = build()
    hard = [
        json.loads(line) for line in (HERE / "hard_cases.jsonl").read_text().splitlines() if line
    ]
    out = HERE / "cases.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for case in cases + hard:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} templated + {len(hard)} hand-written cases to {out}")


if __name__ == "__main__":
    main()
