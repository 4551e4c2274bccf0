"""The NSI chain lexicon (processors/data/brands.tsv.gz): size, countries, ordinary words."""

from __future__ import annotations

import pytest

from processors.evidence import find_evidence
from processors.lexicon import load_lexicon


def _shops_and_brands(text: str) -> set[str]:
    ev = find_evidence(text, 2026)
    return {*ev.shops, *ev.brands}


def test_thousands_of_chains_with_countries() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.shops) > 5000
    # Only the curated web shops (Amazon, eBay, ...) trade without a country.
    assert all(shop.countries or shop.domains for shop in lexicon.shops.values())


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Kupiłem w sklepie Magnit w Rosji", "Magnit"),
        ("Adidas bag, I think", "Adidas"),
        ("looks like a Samsonite case", "Samsonite"),
        ("the same shoes as at Nike", "Nike"),
        ("I had lunch at KFC next to the shop", "KFC"),
        ("zakoupeno v Kaufland", "Kaufland"),
        ("Coca-Cola sticker on the bottle", "Coca-Cola"),
        ("Gekauft bei Tchibo", "Tchibo"),
        # A world chain whose name is a loanword in many dictionaries, capitalised only.
        ("Buty Puma, kupione w outlecie", "Puma"),
        ("Widziałam taką torbę w Biedronce", "Biedronka"),
        ("Koupila jsem to v Lidlu", "Lidl"),
        ("Najtańsze w Żabkach na osiedlu", "Żabka"),  # a form from the inflection table
    ],
)
def test_nsi_names_are_found(text: str, name: str) -> None:
    assert name in _shops_and_brands(text)


@pytest.mark.parametrize(
    "text",
    [
        "the magnitude of the problem",  # Magnit on word boundaries only
        "epicentro della zona",  # Epicentr
        "take action next time",  # Action, Next: ordinary English words
        "una puma nel bosco",  # Puma: a word in most languages, matched only capitalised
        "the kfc was bad",  # KFC: only as written
        "τσάντα από δέρμα",  # Chad
        "a coca cola and a coke",  # Coca-Cola only capitalised (both parts are words)
    ],
)
def test_ordinary_words_are_not_chains(text: str) -> None:
    ev = find_evidence(text, 2026)
    assert not ev.shops and not ev.brands and not ev.countries


# Tweets from tests/data/dedupe_real/pit2015.jsonl.gz (SemEval-2015 PIT, real public text) that
# an earlier build of the NSI lexicon read as chains: names, words, capitals.
@pytest.mark.parametrize(
    "text",
    [
        "This game is going 7 if the Knicks lose tonight",  # "Bäckerei Göing" folds to going
        "im going to miss Amber on idol",
        "LOL at Jordan Crawford talking shit to melo and Felton",
        "Gerald Wallace just travelled on an air ball from a layup",
        "Hey Tim Hudson have a night",
        "Coach Carter is one of my favorites and it just so happens to be on ABC",
        "These amber alerts on my phone been going off ALL day",
        "The big 12 is about to be so stacked next year",
        "LARS ELLER IS ON THE ICE JUST BLEEDING PROFUSELY",
        "i go to bed now BUT PLS FOLLOW OR TWEET ME CALUM ILY x",
        "Why didnt they show Lulu gettin in Julie s ass at the reunion tho",
        "MC Hammer at the Warrior game haha",
        "Cheers to Rhode Island Maryland France etc",
    ],
)
def test_real_tweets_name_no_chain(text: str) -> None:
    ev = find_evidence(text, 2026)
    assert not ev.shops and not ev.brands


@pytest.mark.parametrize(
    ("kind", "name", "inside", "at_most"),
    [
        ("shop", "Magnit", "RU", 10),  # a Russian chain (and its neighbours')
        ("shop", "Żabka", "PL", 1),  # only in Poland
        ("shop", "Rossmann", "PL", 10),
        ("shop", "IKEA", "SE", 80),
        ("shop", "Adidas", "DE", 300),  # sold worldwide
        ("brand", "Coca-Cola", "US", 300),
        ("country", "AT", "AT", 1),
        ("city", "Graz", "AT", 1),
    ],
)
def test_every_entry_knows_its_countries(kind: str, name: str, inside: str, at_most: int) -> None:
    reach = load_lexicon().reach(kind, name)  # type: ignore[arg-type]
    assert inside in reach
    assert len(reach) <= at_most


def test_worldwide_brands_reach_far_more_than_local_chains() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.reach("shop", "Adidas")) > 150
    assert len(lexicon.reach("brand", "Coca-Cola")) > 150
    assert len(lexicon.reach("shop", "Magnit")) < 10


def test_curated_entries_win_over_nsi() -> None:
    lexicon = load_lexicon()
    # The curated Lidl keeps its own brands and domains; NSI's "Епіцентр К" is the curated
    # Epicentr, not a second chain.
    assert lexicon.shops["Lidl"].own_brands
    assert "Епіцентр К" not in lexicon.shops
    assert find_evidence("Купив в Епіцентр К", 2026).shops == ("Epicentr",)
