"""The register's full-text search and filters (decisions.store.screen_queries.search_decisions)."""

from __future__ import annotations

import pytest
from conftest import drive_decision

from decisions import services, store
from decisions.store import folding, screen_queries

TEXTS = {
    "infusion": {
        "title": "Dobbeltkontroll av infusjoner",
        "question": "Hvem signerer ved høyrisikolegemidler?",
        "rationale": "Økt pasientsikkerhet på sengepost",
    },
    "lab": {
        "title": "Prøvetaking før frokost",
        "question": "Når tas morgenprøver?",
        "rationale": "Ærlig talt: færre stikk gir mindre smerte",
        "domain": "LAB",
        "module": "LAB-ORD",
        "forum": "LAB-H",
    },
    "joint": {
        "title": "Felles legemiddelliste",
        "question": "Skal kommunen se sykehusets kurve?",
        "scope": "joint",
        "forum": "FBG",
        "organizations": ["TRD"],
        "criticality": "critical",
    },
}


@pytest.fixture
def decisions(programme, actor):
    keys = {}
    for name, fields in TEXTS.items():
        keys[name] = services.create_decision(
            programme,
            actor("mona@hemit.no"),
            {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
             "organizations": ["STO"], "criticality": "medium"} | fields,
        )  # fmt: skip
    services.decide(programme, actor("hanne@stolav.no"), keys["infusion"],
                    decision_text="To sykepleiere signerer uavhengig.",
                    rationale=TEXTS["infusion"]["rationale"], decided_by=["hanne@stolav.no"])  # fmt: skip
    return keys


def found(conn, text: str = "", **filters) -> list[str]:
    frame, total = screen_queries.search_decisions(
        conn, screen_queries.RegisterQuery(text=text, **filters)
    )
    assert total == len(frame)
    return sorted(frame["key"])


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("infusjoner", "infusion"),  # title
        ("høyrisikolegemidler", "infusion"),  # question
        ("sykepleiere", "infusion"),  # decision
        ("pasientsikkerhet", "infusion"),  # rationale
        ("morgenprøver", "lab"),
        ("kurve", "joint"),
    ],
)
def test_any_word_of_title_question_decision_or_rationale_finds_it(programme, decisions, text, who):
    assert found(programme, text) == [decisions[who]]


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("ØKT", "infusion"),
        ("økt", "infusion"),
        ("ÆRLIG", "lab"),
        ("FÆRRE", "lab"),
        ("PRØVETAKING", "lab"),
        ("dobbeltKONTROLL", "infusion"),
    ],
)
def test_case_is_folded_for_norwegian_letters_too(programme, decisions, text, who):
    assert found(programme, text) == [decisions[who]]


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("infu", ["infusion"]),
        ("legemid", ["joint"]),
        ("prøv", ["lab"]),
        ("høyrisiko", ["infusion"]),
    ],
)
def test_a_word_matches_as_a_prefix_not_inside(programme, decisions, text, who):
    assert found(programme, text) == sorted(decisions[w] for w in who)


def test_every_word_must_match(programme, decisions):
    assert found(programme, "legemiddel kommunen") == [decisions["joint"]]
    assert found(programme, "legemiddel frokost") == []


def test_a_missing_norwegian_letter_is_forgiven(programme, decisions):
    assert found(programme, "prove") == [decisions["lab"]]  # prøve typed without ø
    assert found(programme, "hoyrisiko") == [decisions["infusion"]]
    assert found(programme, "FAERRE") == [decisions["lab"]]  # æ as ae
    assert found(programme, "prave") == []  # but not any letter for another


FORGIVING = {
    "soknad": ("Søknad om legemiddel til hjemmetjenesten", "Vedtak etter søknad"),
    "blodprove": ("Blodprøve tatt hjemme", "Hvem bestiller blodprøven?"),
    "roros": ("Oppmøtested på Røros", "Legevakt i Røros kommune"),
    "alesund": ("Henvisninger fra Ålesund", "Epikrise til fastlege"),
    "plain": ("Soknadsfrist for blodprove", "Stavet uten norske bokstaver"),
}


@pytest.fixture
def spelled(programme, actor):
    return {
        name: services.create_decision(
            programme, actor("mona@hemit.no"),
            {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
             "organizations": ["STO"], "criticality": "medium", "title": title,
             "question": question},
        )
        for name, (title, question) in FORGIVING.items()
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("soknad", ["soknad", "plain"]),
        ("søknad", ["soknad", "plain"]),
        ("SØKNAD", ["soknad", "plain"]),
        ("blodprove", ["blodprove", "plain"]),
        ("blodprøve", ["blodprove", "plain"]),
        ("roros", ["roros"]),
        ("Røros", ["roros"]),
        ("Aalesund", ["alesund"]),
        ("aalesund", ["alesund"]),
        ("alesund", ["alesund"]),
        ("Ålesund", ["alesund"]),
        ("epikrise fastlege", ["alesund"]),
    ],
)
def test_search_forgives_missing_aeoa(programme, spelled, text, who):
    assert found(programme, text) == sorted(spelled[w] for w in who)


def test_a_search_spelled_with_aeoa_lists_the_exact_spelling_first(programme, spelled):
    frame, _ = screen_queries.search_decisions(
        programme, screen_queries.RegisterQuery(text="søknad")
    )
    assert list(frame["key"]) == [spelled["soknad"], spelled["plain"]]
    frame, _ = screen_queries.search_decisions(
        programme, screen_queries.RegisterQuery(text="blodprøve")
    )
    assert list(frame["key"]) == [spelled["blodprove"], spelled["plain"]]
    assert spelled["blodprove"] < spelled["plain"]  # and by key otherwise:
    frame, _ = screen_queries.search_decisions(
        programme, screen_queries.RegisterQuery(text="soknad")
    )
    assert list(frame["key"]) == [spelled["soknad"], spelled["plain"]]


def test_a_changed_text_is_found_folded_by_its_new_words(programme, decisions, actor):
    key = decisions["infusion"]
    services.revise(programme, actor("mona@hemit.no"), key,
                    decision_text="Blodprøve før måltid.", reason="ny praksis")  # fmt: skip
    assert found(programme, "blodprove maltid") == [key]
    assert found(programme, "sykepleiere") == []


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Blodprøve", "blodprove"),
        ("SØKNAD", "soknad"),
        ("Ålesund", "alesund"),
        ("Aalesund", "alesund"),
        ("Ærlig VÆR", "aerlig vaer"),
        ("Røros kommune", "roros kommune"),
        ("kaaa", "kaa"),  # as SQLite's replace: left to right, no overlaps
    ],
)
def test_fold(text, folded):
    assert folding.fold(text) == folded


FOLD_ALPHABET = "aAeEoOkK æÆøØåÅ-1"


@pytest.mark.parametrize("seed", range(5))
def test_the_databases_folded_copy_follows_the_python_rule(programme, seed):
    """The folded index's triggers fold in SQL (folding.fold_sql): the same result as
    screen_queries.fold, for texts of the letters the rule is about."""
    import random

    rng = random.Random(seed)
    texts = ["".join(rng.choice(FOLD_ALPHABET) for _n in range(rng.randint(0, 12)))
             for _i in range(200)] + [t for t, _f in FORGIVING.values()]  # fmt: skip
    sql = folding.fold_sql("?")
    for text in texts:
        assert programme.execute(f"SELECT {sql}", (text,)).fetchone()[0] == folding.fold(text)


def test_the_folded_index_holds_each_decision_folded(programme, spelled):
    row = programme.execute(
        "SELECT f.title FROM decisions_folded f JOIN decisions d ON d.rowid = f.rowid "
        "WHERE d.key = ?", (spelled["alesund"],)
    ).fetchone()  # fmt: skip
    assert row[0] == folding.fold(FORGIVING["alesund"][0])


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("trondheim", [("organizations", "TRD")]),
        ("Trondheim kommune", [("organizations", "TRD")]),
        ("st olavs", [("organizations", "STO")]),
        ("laboratory grou", [("forums", "LAB-H")]),
        ("laboratory gr", []),  # a short start names nothing: "med" would name every group
        ("lab-h", [("forums", "LAB-H")]),
        ("trondheim lab", []),
        ("", []),
    ],
)
def test_organisations_and_forums_are_found_by_name(programme, text, names):
    assert [(n["table"], n["code"]) for n in screen_queries.named(programme, text)] == names


def test_a_named_organisation_finds_its_decisions(programme, decisions):
    named = tuple((n["table"], n["code"]) for n in screen_queries.named(programme, "Trondheim"))
    assert found(programme, "Trondheim") == []  # no decision says Trondheim
    assert found(programme, "Trondheim", named=named) == [decisions["joint"]]
    labs = tuple(
        (n["table"], n["code"]) for n in screen_queries.named(programme, "laboratory group")
    )
    assert found(programme, "laboratory group", named=labs) == [decisions["lab"]]


@pytest.mark.parametrize(
    "text",
    ['"', '"infusjoner', "(", "infusjoner)", "AND", "OR infusjoner", "NOT", "*", "-infusjoner",
     "title:infusjoner", "^infusjoner", "NEAR(a b)", "'", "a AND (b OR", "{title}: x", "+", "\\"],
)  # fmt: skip
def test_fts_syntax_characters_are_read_as_plain_words(programme, decisions, text):
    found(programme, text)  # does not raise


def test_operators_are_words_not_syntax(programme, decisions):
    assert found(programme, "-infusjoner") == [decisions["infusion"]]  # not NOT infusjoner
    assert found(programme, "infusjoner OR frokost") == []  # OR is one more word to match


def test_empty_or_blank_text_lists_everything(programme, decisions):
    assert found(programme, "") == found(programme, "  \t") == sorted(decisions.values())


@pytest.mark.parametrize("text", ["MED-0001", "med-0001", "MED-000", "MED-"])
def test_a_key_finds_its_decision(programme, decisions, text):
    assert decisions["infusion"] in found(programme, text)


def test_a_changed_text_is_found_by_its_new_words(programme, decisions, actor):
    key = decisions["infusion"]
    services.revise(programme, actor("mona@hemit.no"), key,
                    decision_text="Strekkode skannes ved sengen.", reason="ny praksis")  # fmt: skip
    assert found(programme, "strekkode") == [key]
    assert found(programme, "sykepleiere") == []


@pytest.mark.parametrize(
    ("filters", "who"),
    [
        ({"domains": ("LAB",)}, ["lab"]),
        ({"forums": ("FBG", "LAB-H")}, ["joint", "lab"]),
        ({"modules": ("MED-ADM",)}, ["infusion", "joint"]),
        ({"stages": ("decided",)}, ["infusion"]),
        ({"criticalities": ("critical",)}, ["joint"]),
        ({"organizations": ("TRD",)}, ["joint"]),
        ({"organizations": ("STO",)}, ["infusion", "lab"]),
        ({"waves": ("W1",)}, ["infusion", "joint", "lab"]),
        ({"waves": ("W2",)}, []),
    ],
)
def test_filters(programme, decisions, filters, who):
    assert found(programme, **filters) == sorted(decisions[w] for w in who)


def test_a_decision_for_all_organisations_counts_for_every_wave_and_organisation(
    programme, decisions
):
    with store.transaction(programme):
        programme.execute("INSERT INTO waves (code, name, go_live) VALUES ('W2', 'Wave 2', "
                          "'2023-02-11')")  # fmt: skip
    everywhere = drive_decision(programme, "proposed", organizations=["ALL"])
    assert found(programme, waves=("W2",)) == [everywhere]
    assert everywhere in found(programme, organizations=("TRD",))


def test_text_and_filters_combine(programme, decisions):
    assert found(programme, "legemid", domains=("MED",), organizations=("TRD",)) == [
        decisions["joint"]
    ]


def test_the_result_is_capped_but_the_count_is_not(programme, decisions):
    frame, total = screen_queries.search_decisions(
        programme, screen_queries.RegisterQuery(), limit=2
    )
    assert len(frame) == 2 and total == 3


def test_a_long_search_is_cut_to_its_first_words(programme, decisions):
    """5,000 words took 11 s on every rerun of the register: only the first words are
    searched, and the register says so."""
    endless = "infusjoner " + " ".join(f"ord{n}" for n in range(5_000))
    assert screen_queries.search_words(endless) == ["infusjoner"] + [f"ord{n}" for n in range(9)]
    assert len(screen_queries.fts_query(endless).split()) == screen_queries.MAX_SEARCH_WORDS
    assert screen_queries.words_left_out(endless) and not screen_queries.words_left_out(
        "infusjoner " * 50
    )
    assert found(programme, "infusjoner " * 5_000) == [decisions["infusion"]]
