"""What a Norwegian office opens (issue 21): the Readiness table as a CSV that Norwegian Excel
splits into columns (semicolons, decimal commas) and as xlsx, xlsx rows tall enough for their
wrapped text, and numbers in the charts and the PNG as the reader writes them."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pandas as pd
import pytest
import vl_convert

from decisions import i18n, services
from decisions import io as transfer_io
from decisions.charts import readiness as readiness_charts
from decisions.charts import spec

FIELDS = {"domain": "MED", "module": "MED-ADM", "forum": "MED-H", "scope": "hospital",
          "organizations": ["STO"], "criticality": "high"}  # fmt: skip
TABLE = pd.DataFrame(
    {"Kriterium": ["Beslutninger klare", "=HYPERLINK(\"http://x\")"], "Verdi": [178.4, 2400.0],
     "Vurdering": ["92,5 %", "Lang tekst\nover to linjer"]}
)  # fmt: skip


@pytest.fixture
def bokmal(monkeypatch):
    monkeypatch.setenv("DECISIONS_LANGUAGE", "nb")
    i18n.use("nb")
    yield
    i18n.use("en")


def test_a_table_for_a_bokmal_reader_is_a_csv_norwegian_excel_splits_into_columns(bokmal):
    data = transfer_io.table_csv(TABLE)
    assert not data.startswith(b"\xef\xbb\xbf")  # Windows-1252: every letter fits it
    assert data.decode("cp1252").splitlines() == [
        "Kriterium;Verdi;Vurdering",
        "Beslutninger klare;178,4;92,5 %",
        '"\'=HYPERLINK(""http://x"")";2400;"Lang tekst',
        'over to linjer"',
    ]


def test_a_table_for_an_english_reader_stays_a_comma_csv():
    text = transfer_io.table_csv(TABLE).decode("utf-8-sig")
    assert text.splitlines()[:2] == [
        "Kriterium,Verdi,Vurdering",
        'Beslutninger klare,178.4,"92,5 %"',
    ]


def test_a_table_as_xlsx_keeps_numbers_and_sizes_rows_for_wrapped_text():
    sheet = openpyxl.load_workbook(io.BytesIO(transfer_io.table_xlsx(TABLE, "W1"))).worksheets[0]
    assert [c.value for c in sheet[2]] == ["Beslutninger klare", 178.4, "92,5 %"]
    assert sheet.cell(row=3, column=1).value == '=HYPERLINK("http://x")'
    assert sheet.cell(row=3, column=1).data_type == "s"  # text, never a formula
    assert sheet.cell(row=3, column=3).alignment.wrap_text
    assert sheet.row_dimensions[3].height == 30  # two lines
    assert sheet.row_dimensions[2].height is None


def test_xlsx_export_rows_are_as_tall_as_their_wrapped_text(programme, actor):
    question = "First line\nsecond line\nthird line"
    rationale = "word " * 60  # 300 characters in a column 60 wide: wrapped to six lines
    services.create_decision(programme, actor("hanne@stolav.no"),
                             FIELDS | {"title": "T", "question": question,
                                       "rationale": rationale})  # fmt: skip
    data = transfer_io.export_kind(programme, "decisions", "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.row_dimensions[2].height == 6 * 15


def axis_labels(chart) -> list[str]:
    svg = vl_convert.vegalite_to_svg(spec(chart))
    return re.findall(r">([^<]*\d[^<]*)</text>", svg)


def burn_up():
    weeks = pd.date_range("2022-06-06", periods=3, freq="7D").date
    series = pd.DataFrame({"date": list(weeks) * 3, "series": ["scope"] * 3 + ["approved"] * 3
                           + ["ready"] * 3, "count": [2400, 2400, 2400, 900, 1200, 1500.5,
                                                      100, 178.4, 300]})  # fmt: skip
    forecast = series.iloc[:0]
    return readiness_charts.burn_up_chart(series, forecast, dt.date(2022, 11, 12),
                                          dt.date(2022, 9, 15))  # fmt: skip


def test_chart_numbers_are_written_as_a_bokmal_reader_writes_them(bokmal):
    labels = axis_labels(burn_up())
    assert "2\u00a0400" in labels or "2\u00a0500" in labels, labels
    assert not [label for label in labels if re.fullmatch(r"\d{1,3}(,\d{3})+", label)]
    assert readiness_charts.to_png(burn_up()).startswith(b"\x89PNG")


def test_chart_numbers_for_an_english_reader_keep_commas():
    labels = axis_labels(burn_up())
    assert "2,400" in labels or "2,500" in labels, labels


def test_chart_percentages_are_written_as_a_bokmal_reader_writes_them(bokmal):
    import altair as alt

    shares = pd.DataFrame({"stage": ["a", "b"], "share": [0.25, 0.5]})
    chart = (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("share", type="quantitative", axis=alt.Axis(format="%")),
            y=alt.Y("stage", type="nominal"),
        )
    )
    labels = axis_labels(chart)
    assert "50\u00a0%" in labels and "50%" not in labels, labels
