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
    if kind == "csv":
        options = CSV_IN[separator]
        if not Path(files[0]).read_bytes().startswith(b"\xef\xbb\xbf"):
            options = options.replace(",76,", ",1,")  # Windows-1252, the Norwegian export's
        infilter = ["--infilter=Text - txt - csv (StarCalc):" + options]
        target = "csv:Text - txt - csv (StarCalc):" + CSV_OUT
    else:
        infilter, target = [], "xlsx:Calc MS Excel 2007 XML"
    done = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         *infilter, "--convert-to", target, "--outdir", str(out), *files],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(f).name for f in files)


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
