"""Charts of the testing page: how the vendor's and the clinicians' severity ratings of the
defects compare."""

from __future__ import annotations

import altair as alt
import pandas as pd

from decisions.charts import tip


def severity_matrix_chart(counts: pd.DataFrame) -> alt.LayerChart:
    """Defects per pair of ratings (`counts`: severity_vendor, severity_clinical, defects);
    off the diagonal the two disagree."""
    data = counts.assign(agree=counts["severity_vendor"] == counts["severity_clinical"])
    base = alt.Chart(data).encode(
        x=alt.X("severity_vendor", type="ordinal", title="Vendor's rating", sort=[1, 2, 3, 4]),
        y=alt.Y("severity_clinical", type="ordinal", title="Clinicians' rating", sort=[1, 2, 3, 4]),
    )
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "defects", type="quantitative", scale=alt.Scale(scheme="oranges"), title="Defects"
        ),
        tooltip=[
            tip("severity_vendor", "ordinal", title="vendor"),
            tip("severity_clinical", "ordinal", title="clinical"),
            tip("defects", "quantitative"),
        ],
    )
    labels = base.mark_text(fontSize=13).encode(
        text=alt.Text("defects", type="quantitative"),
        color=alt.condition("datum.agree", alt.value("#737373"), alt.value("black")),
    )
    return (cells + labels).properties(height=220, width=260)
