"""The accessibility statement: the standard the app is held to, what was tested and how,
how to use it with the keyboard, what is known not to meet it, and whom to tell."""

import streamlit as st

import ui
from decisions.i18n import _

ui.require_frame()  # opened straight after a start: the frame (language, sign-in, menu) first
st.title(_("Accessibility statement"))
st.markdown(
    _(
        "This tracker aims to meet the **Web Content Accessibility Guidelines (WCAG) 2.1, level "
        "AA**, the level Norwegian public bodies, hospitals and municipalities among them, must "
        "meet."
    )
)
st.subheader(_("What was tested, and how"))
st.markdown(
    _(
        "- Every page, opened by a programme manager (who sees the most pages and forms), in "
        "bokmål and in English, at two widths: a desktop screen (1440 pixels) and a phone "
        "(390 pixels).\n"
        "- Each page is checked with the open-source tool axe-core against all its rules for "
        "WCAG 2.0 and 2.1, levels A and AA, in the Chromium browser. The check runs with the "
        "product's automatic tests, so a change that breaks a rule is found before release; it "
        "finds no violation today.\n"
        "- Every chart has a text alternative: a sentence saying what it shows and the data "
        "behind it as tables, under “The chart as text and table”.\n"
        "- Text and its background keep a contrast of at least 4.5:1."
    )
)
st.markdown(
    _(
        "- The main journey of each role is done with the keyboard alone (Tab, Shift+Tab, "
        "Enter, Space, the arrow keys and typing) in Chromium, with the product's automatic "
        "tests: a subject expert gives a verdict on a decision awaiting it, an analyst "
        "proposes a decision and a member of its forum records the decision, a tester logs a "
        "test run, a programme manager records a go/no-go decision, and an administrator adds "
        "a person. Each is checked in the database afterwards, and every control on the way "
        "must show where the keyboard's focus is with a line around it."
    )
)
st.subheader(_("Using it with the keyboard"))
st.markdown(
    _(
        "- The first Tab on a page reaches “Skip to main content”, which jumps past the menu.\n"
        "- In a table, Tab into it, move with the arrow keys and press Shift+Space to select a "
        "row; in a list of decisions, that opens the decision.\n"
        "- In a list to choose from, type to narrow it and press Enter to take the first match; "
        "Escape closes it."
    )
)
st.subheader(_("Known limitations"))
st.markdown(
    _(
        "- Automatic checks find only part of what WCAG asks; the journeys of each role have "
        "not yet been tried with a screen reader.\n"
        "- The charts' details on hover need a mouse; the same figures are in the tables "
        "under each chart."
    )
)
st.subheader(_("Feedback"))
st.markdown(
    _(
        "Tell the programme's administrators about anything you cannot read or do with your "
        "way of using the web, so that it can be fixed."
    )
)
