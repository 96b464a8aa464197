"""The round trip through a real spreadsheet program: our exports opened in LibreOffice
(headless, in a Norwegian locale, detecting dates and numbers as Excel does) and saved back
as it saves them, then imported. The Norwegian CSV and the xlsx come back unchanged; the plain
CSV's decimal points become dates there, and the import names each one instead of taking it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from decisions import cli, demo, store

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
NORWEGIAN = 1044  # LibreOffice's language number of nb-NO
PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry">
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">
<value>nb-NO</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse">
<value>nb-NO</value></prop></item>
</oor:items>
"""
# Filter options: separator, quote, UTF-8 (76), from line 1, no column formats, the locale,
# quoted cells not forced to text, detect special numbers (dates): what opening a CSV in a
# Norwegian spreadsheet does.
CSV_IN = {",": f"44,34,76,1,,{NORWEGIAN},false,true", ";": f"59,34,76,1,,{NORWEGIAN},false,true"}
CSV_OUT = f"59,34,76,1,,{NORWEGIAN}"  # saved back as a Norwegian user saves: semicolons


@pytest.fixture(scope="module")
def profile(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lo-profile")
    (folder / "user").mkdir()
    (folder / "user" / "registrymodifications.xcu").write_text(PROFILE)
    return folder


def through_libreoffice(profile: Path, folder: Path, out: Path, kind: str, separator=",") -> None:
    """Every file of `folder` opened in LibreOffice and saved into `out` as `kind` (csv or
    xlsx)."""
    files = sorted(str(p) for p in folder.iterdir())
    infilter = []
    if files[0].endswith(".csv"):
        options = CSV_IN[separator]
        if not Path(files[0]).read_bytes().startswith(b"\xef\xbb\xbf"):
            options = options.replace(",76,", ",1,")  # Windows-1252, the Norwegian export's
        infilter = ["--infilter=Text - txt - csv (StarCalc):" + options]
    if kind == "csv":
        target = "csv:Text - txt - csv (StarCalc):" + CSV_OUT
    else:
        target = "xlsx:Calc MS Excel 2007 XML"
    done = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         *infilter, "--convert-to", target, "--outdir", str(out), *files],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.stem for p in out.iterdir()) == sorted(Path(f).stem for f in files)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = store.connect(path)
    demo.build_demo(conn, scale=0.05)
    conn.close()
    return path


def copy_of(db: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy.db"
    shutil.copy(db, copy)
    return copy


def events(db: Path) -> int:
    conn = store.connect(db)
    try:
        return store.scalar(conn, "SELECT count(*) FROM events")
    finally:
        conn.close()


def export(db: Path, folder: Path, *options: str) -> None:
    assert cli.main(["export", "all", "--out", str(folder), "--db", str(db), *options]) == 0


@pytest.mark.parametrize("fmt", ["norwegian-csv", "xlsx"])
def test_norwegian_csv_and_xlsx_come_back_from_libreoffice_unchanged(
    demo_db, profile, tmp_path, capsys, fmt
):
    db, exported, saved = copy_of(demo_db, tmp_path), tmp_path / "export", tmp_path / "saved"
    options = ["--norwegian"] if fmt == "norwegian-csv" else ["--format", "xlsx"]
    export(db, exported, *options)
    through_libreoffice(profile, exported, saved, "csv" if fmt != "xlsx" else "xlsx", ";")
    if fmt == "norwegian-csv":  # LibreOffice wrote it in its own way: dd.mm.yy hh:mm
        assert (saved / "measurements.csv").read_bytes() != (exported / "measurements.csv")
    before = events(db)
    capsys.readouterr()
    code = cli.main(["import", "all", str(saved), "--db", str(db)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert events(db) == before, printed.out  # nothing changed
    for line in printed.out.splitlines():
        if ", 0 rejected" in line:
            assert ": 0 new, 0 updated, " in line, line
    assert cli.main(["check", "--db", str(db)]) == 0


def test_a_plain_csv_through_libreoffice_is_refused_by_name_where_numbers_became_dates(
    demo_db, profile, tmp_path, capsys
):
    db, exported, saved = copy_of(demo_db, tmp_path), tmp_path / "export", tmp_path / "saved"
    export(db, exported)
    for name in ("measurements.csv", "criteria.csv"):
        shutil.copy(exported / name, tmp_path / name)
    only = tmp_path / "two"
    only.mkdir()
    for name in ("measurements.csv", "criteria.csv"):
        shutil.move(tmp_path / name, only / name)
    through_libreoffice(profile, only, saved, "csv", ",")
    values = [line.split(",")[3] for line in
              (exported / "measurements.csv").read_text("utf-8-sig").splitlines()[1:]]  # fmt: skip
    # What a Norwegian spreadsheet makes of them: d.m with a month 1-12 becomes a date
    would_be_dates = [v for v in values if "." in v and 1 <= int(v.split(".")[1]) <= 12
                      and 1 <= int(v.split(".")[0]) <= 31 and len(v.split(".")[1]) <= 2]  # fmt: skip
    before = events(db)
    capsys.readouterr()
    assert cli.main(["import", "all", str(saved), "--db", str(db)]) == 1
    errors = capsys.readouterr().err.splitlines()
    dated = [e for e in errors if ":value: " in e and "is a date in a number column" in e]
    assert would_be_dates and len(dated) == len(would_be_dates), errors[:5]
    assert all(e.startswith(str(saved / "measurements.csv") + ":") for e in dated)
    assert events(db) == before
    print(f"LibreOffice nb-NO: {len(dated)} of {len(values)} measurement values became dates")


# A programme with awkward values, through every path an office takes -------------------------

AWKWARD = {  # the decisions' texts a spreadsheet guesses a type for, by stage
    "built": {"title": "12345678901234567890", "question": "SANN", "rationale": "3/4",
              "scope": "municipality", "forum": "MED-M", "organizations": ["0301"]},
    "tested": {"title": "1e5", "question": 'Dose "x"; y\nandre linje', "rationale": "æøå ÆØÅ"},
    "decided": {"title": "0042", "question": "1.10", "rationale": "USANN"},
    "proposed": {"title": "Tekst som endres", "question": "JA", "rationale": "TRUE",
                 "needed_by": "2022-10-01"},
}  # fmt: skip
EDITED = ("MED-0004", "title", "Tekst som endres")  # the cell the person edits
OSLO = (
    ("organizations", "code,name,kind\r\n0301,Oslo kommune,municipality\r\n"),
    ("waves", "code,name,go_live,organizations\r\nW2,Oslo,2023-04-29,0301\r\n"),
    ("experts", "email,name,organization,domains,roles,allocation_pct\r\n"
                "siv@oslo.kommune.no,Siv,0301,MED,expert,40\r\n"),
)  # fmt: skip
# What is exported, what LibreOffice saves it as, what the person types in the edited cell,
# and the import's exit status: USANN typed over a title becomes a truth value, its text lost.
PATHS = {"csv-csv": ("norwegian", "csv", "Tekst som er endret", 0),
         "xlsx-xlsx": ("xlsx", "xlsx", "Tekst som er endret", 0),
         "csv-xlsx": ("norwegian", "xlsx", "Tekst som er endret", 0),
         "csv-xlsx-usann": ("norwegian", "xlsx", "USANN", 1)}  # fmt: skip


@pytest.fixture(scope="module")
def awkward_db(tmp_path_factory) -> Path:
    from conftest import build_small_programme, drive_decision

    from decisions import io as transfer_io
    from decisions.model import SYSTEM_ACTOR

    path = tmp_path_factory.mktemp("awkward") / "awkward.db"
    conn = store.connect(path)
    build_small_programme(conn)
    for kind, text in OSLO:
        source = transfer_io.Source(f"{kind}.csv", text.encode(), kind)
        assert transfer_io.import_sources(conn, [source], SYSTEM_ACTOR).ok
    for stage, fields in AWKWARD.items():
        drive_decision(conn, stage, **fields)
    conn.close()
    return path


def edit_export(folder: Path, fmt: str, new: str) -> None:
    """The one change the person makes in the spreadsheet."""
    key, column, old = EDITED
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.load_workbook(folder / "decisions.xlsx")
        sheet = book.worksheets[0]
        at = [c.value for c in sheet[1]].index(column)
        [row] = [r for r in sheet.iter_rows(min_row=2) if r[0].value == key]
        assert row[at].value == old
        row[at].value = new
        book.save(folder / "decisions.xlsx")
        return
    path = folder / "decisions.csv"
    text = path.read_bytes().decode("cp1252")
    assert text.count(f";{old};") == 1
    path.write_bytes(text.replace(f";{old};", f";{new};").encode("cp1252"))


@pytest.fixture(scope="module")
def round_trips(awkward_db, profile, tmp_path_factory) -> dict[str, Path]:
    """The awkward programme's export for each path, edited once and saved by LibreOffice:
    one conversion of all the files per path."""
    saved = {}
    for name, (exported_as, saved_as, typed, _exit) in PATHS.items():
        folder = tmp_path_factory.mktemp(name)
        options = ["--norwegian"] if exported_as == "norwegian" else ["--format", "xlsx"]
        export(awkward_db, folder / "export", *options)
        edit_export(folder / "export", "xlsx" if exported_as == "xlsx" else "csv", typed)
        through_libreoffice(profile, folder / "export", folder / "saved", saved_as, ";")
        saved[name] = folder / "saved"
    return saved


def stored_values(db: Path) -> dict[tuple, object]:
    """Every stored value the files carry, by KIND, record and column."""
    from decisions.io.kinds import KINDS
    from decisions.store import transfer

    conn = store.connect(db)
    try:
        return {
            (kind, tuple(record[c] for c in spec.key), column): value
            for kind, spec in KINDS.items()
            for record in transfer.export_rows(conn, kind)
            for column, value in record.items()
        }
    finally:
        conn.close()


@pytest.mark.parametrize("path", PATHS)
def test_an_import_after_libreoffice_changes_only_what_the_person_changed(
    awkward_db, round_trips, tmp_path, capsys, path
):
    db = copy_of(awkward_db, tmp_path)
    before, events_before = stored_values(db), events(db)
    capsys.readouterr()
    code = cli.main(["import", "all", str(round_trips[path]), "--db", str(db)])
    printed = capsys.readouterr()
    after = stored_values(db)
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()
               if before.get(k) != after.get(k)}  # fmt: skip
    print(printed.out, printed.err)
    _exported, _saved, typed, exit_status = PATHS[path]
    assert code == exit_status, printed.err
    if code == 1:
        assert changed == {} and events(db) == events_before, printed.err
        assert printed.err.startswith(f"{round_trips[path] / 'decisions.xlsx'}:5:title: a "
                                      "spreadsheet made this text a truth value (FALSE)")  # fmt: skip
        return
    key, column, old = EDITED
    assert changed == {("decisions", (key,), column): (old, typed)}, printed.out
    assert cli.main(["check", "--db", str(db)]) == 0


def test_libreoffice_keeps_the_rows_sized_for_wrapped_text(round_trips):
    import openpyxl

    sheet = openpyxl.load_workbook(round_trips["xlsx-xlsx"] / "decisions.xlsx").worksheets[0]
    [row] = [r[0].row for r in sheet.iter_rows(min_row=2) if r[0].value == "MED-0002"]
    assert sheet.row_dimensions[row].height >= 30  # its question's two lines
