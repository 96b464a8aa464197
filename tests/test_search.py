"""The register's full-text search and filters (decisions.store.views.search_decisions)."""

from __future__ import annotations

import pytest
from conftest import drive_decision

from decisions import services, store
from decisions.store import views

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
    frame, total = views.search_decisions(conn, views.RegisterQuery(text=text, **filters))
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


def test_diacritics_are_not_folded_away(programme, decisions):
    assert found(programme, "prove") == []  # prøve is not prove


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
    frame, total = views.search_decisions(programme, views.RegisterQuery(), limit=2)
    assert len(frame) == 2 and total == 3


def test_a_long_search_is_cut_to_its_first_words(programme, decisions):
    """5,000 words took 11 s on every rerun of the register: only the first words are
    searched, and the register says so."""
    endless = "infusjoner " + " ".join(f"ord{n}" for n in range(5_000))
    assert views.search_words(endless) == ["infusjoner"] + [f"ord{n}" for n in range(9)]
    assert len(views.fts_query(endless).split()) == views.MAX_SEARCH_WORDS
    assert views.words_left_out(endless) and not views.words_left_out("infusjoner " * 50)
    assert found(programme, "infusjoner " * 5_000) == [decisions["infusion"]]
