"""The Data page in Streamlit's AppTest: only managers and admins use it; an upload shows a
preview of what would change (or every problem against its row) before anything is written;
confirming writes it; exports and backups are offered for download."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import as_read
from streamlit.testing.v1 import AppTest

from decisions import store
from decisions.store import decisions as decision_store

PAGE = Path(__file__).resolve().parents[1] / "pages" / "data.py"
ORGANIZATIONS = (
    b"code,name,kind\nSTO,St. Olavs hospital HF,hospital\nLEV,Levanger kommune,municipality\n"
)


@pytest.fixture
def app(programme, db_path):
    """app(email) -> an AppTest of the Data page, signed in as `email`, after its first run."""
    connections = []

    def open_page(email: str) -> AppTest:
        at = AppTest.from_file(str(PAGE), default_timeout=60)
        connections.append(store.connect(db_path))
        at.session_state["_conn"] = connections[-1]
        at.session_state["_actor"] = decision_store.load_actor(programme, email)
        return run(at)

    yield open_page
    for connection in connections:
        connection.close()


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes, kind: str | None = None) -> AppTest:
    if kind:
        at.selectbox(key="import_kind").set_value(kind)
    at.get("file_uploader")[0].set_value((name, data, "text/csv"))
    return run(at)


def upload_many(at: AppTest, files: dict[str, bytes]) -> AppTest:
    at.get("file_uploader")[0].set_value([(n, d, "text/csv") for n, d in files.items()])
    return run(at)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def organizations(conn) -> dict[str, str]:
    return {r["code"]: r["name"] for r in store.rows(conn, "SELECT code, name FROM organizations")}


@pytest.mark.parametrize("email", ["vera@hemit.no", "hanne@stolav.no", "ana@hemit.no"])
def test_people_who_are_not_managers_see_a_message(app, email):
    at = app(email)
    assert "Importing needs the role manager or admin" in at.info[0].value
    assert not at.get("file_uploader") and not at.tabs


@pytest.mark.parametrize("email", ["mona@hemit.no", "admin@hemit.no"])
def test_managers_and_admins_see_import_export_and_backup(app, email):
    at = app(email)
    assert [t.label for t in at.tabs] == ["Import", "Export", "Backup"]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download all.zip", "Download a backup"]


def test_a_preview_shows_what_would_change_then_confirming_writes_it(app, programme):
    at = upload(app("mona@hemit.no"), "organizations.csv", ORGANIZATIONS)
    assert metrics(at) == {"New": "1", "Updated": "1", "Unchanged": "0", "Rejected": "0"}
    preview = at.dataframe[0].value
    assert preview[["Key", "Status"]].values.tolist() == [["LEV", "new"], ["STO", "updated"]]
    assert "holds Organisations; 1 new, 1 updated" in "".join(c.value for c in at.caption)
    assert "LEV" not in organizations(programme)  # nothing written by the preview
    at.button[0].click()
    run(at)
    assert organizations(programme)["LEV"] == "Levanger kommune"
    assert organizations(programme)["STO"] == "St. Olavs hospital HF"
    assert "Imported organizations.csv: 1 new, 1 updated" in as_read(at.success[0].value)
    actors = {e["actor"] for e in store.events_for(programme, "organization", "LEV")}
    assert actors == {"mona@hemit.no"}


def test_a_bad_file_shows_every_problem_against_its_row_and_offers_no_import(app, programme):
    before = list(programme.iterdump())
    data = b"code,name,kind\nSTO,,hospital\nNEW,New,clinic\n"
    at = upload(app("mona@hemit.no"), "orgs.csv", data, kind="organizations")
    assert metrics(at)["Rejected"] == "2"
    assert "nothing will be imported" in at.error[0].value
    assert at.code[0].value.splitlines() == [
        "orgs.csv:2:name: name is required",
        "orgs.csv:3:kind: 'clinic' is not one of hospital, municipality, gp_office",
    ]
    assert at.dataframe[0].value["Errors"].tolist() == [
        "name is required",
        "'clinic' is not one of hospital, municipality, gp_office",
    ]
    assert not [b for b in at.button if b.label.startswith("Import")]
    assert list(programme.iterdump()) == before


def test_a_norwegian_excel_file_says_what_was_detected(app):
    data = "code;name;kind\r\nORL;Ørland kommune;municipality\r\n".encode("cp1252")
    at = upload(app("mona@hemit.no"), "organisasjoner.csv", data)
    captions = " ".join(c.value for c in at.caption)
    assert "CSV, Windows-1252 (Excel), semicolon-separated" in captions
    assert "Read as a Norwegian spreadsheet" in captions
    assert metrics(at)["New"] == "1"


def test_a_file_with_nothing_new_says_so(app):
    data = b"code,name,kind\nSTO,St. Olavs hospital,hospital\n"
    at = upload(app("admin@hemit.no"), "organizations.csv", data)
    assert "nothing to import" in at.info[0].value


def test_several_files_import_together_in_dependency_order(app, programme):
    experts = (b"email,name,organization,domains,roles,allocation_pct\n"
               b"new@levanger.kommune.no,Nina,LEV,MED,expert,40\n")  # fmt: skip
    at = upload_many(
        app("mona@hemit.no"), {"experts.csv": experts, "organizations.csv": ORGANIZATIONS}
    )
    assert metrics(at) == {"New": "2", "Updated": "1", "Unchanged": "0", "Rejected": "0"}
    assert at.dataframe[0].value["File"].tolist()[0] == "organizations.csv"
    at.button[0].click()
    run(at)
    person = store.one(programme, "SELECT * FROM experts WHERE email = 'new@levanger.kommune.no'")
    assert person["organization"] == "LEV"


def test_the_preview_says_what_each_row_will_do_beyond_its_columns(app, programme, decision_at):
    import csv
    import io

    from decisions import io as transfer_io

    key = decision_at("demonstrated")
    rows = list(csv.DictReader(io.StringIO(transfer_io.export_kind(programme, "decisions")
                                           .decode("utf-8-sig"))))  # fmt: skip
    rows[0]["decision"] = "As decided, and the pharmacist checks."
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    at = upload(app("mona@hemit.no"), "decisions.csv", out.getvalue().encode())
    preview = at.dataframe[0].value
    assert preview[["Key", "Status"]].values.tolist() == [[key, "updated"]]
    assert preview["Notes"].tolist() == [
        "revised to version 2; the stage is now decided (was demonstrated)"
    ]
    assert decision_store.get_decision(programme, key)["version"] == 1  # only a preview
