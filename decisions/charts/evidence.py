"""Charts of the testing page: how the vendor's and the clinicians' severity ratings of the
defects compare."""

from __future__ import annotations

import altair as alt
import pandas as pd

from decisions.charts import tip
from decisions.i18n import _
from decisions.words import SEVERITY_WORDS, severity_word


def severity_matrix_chart(counts: pd.DataFrame) -> alt.LayerChart:
    """Defects per pair of ratings (`counts`: severity_vendor, severity_clinical, defects);
    off the diagonal the two disagree. The ratings read as words ("1 kritisk")."""
    order = [severity_word(s) for s in SEVERITY_WORDS]
    data = counts.assign(
        agree=counts["severity_vendor"] == counts["severity_clinical"],
        vendor=counts["severity_vendor"].map(severity_word),
        clinical=counts["severity_clinical"].map(severity_word),
    )
    base = alt.Chart(data).encode(
        x=alt.X("vendor", type="ordinal", title=_("Vendor's severity"), sort=order,
                axis=alt.Axis(labelAngle=0, labelLimit=90)),
        y=alt.Y("clinical", type="ordinal", title=_("Clinicians' severity"), sort=order),
    )  # fmt: skip
    cells = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "defects", type="quantitative", scale=alt.Scale(scheme="oranges"), title=_("Defects")
        ),
        tooltip=[
            tip("vendor", title=_("Vendor's severity")),
            tip("clinical", title=_("Clinicians' severity")),
            tip("defects", "quantitative", title=_("Defects")),
        ],
    )
    labels = base.mark_text(fontSize=13).encode(
        text=alt.Text("defects", type="quantitative"),
        color=alt.condition("datum.agree", alt.value("#737373"), alt.value("black")),
    )
    return (cells + labels).properties(height=220, width=280)
