"""Streamlit's own texts inside its widgets, in the reader's language where Streamlit 1.67 has
no parameter for them: the multiselect's "Select all" and "Select N matches", and the file
uploader's "Upload" button and "50MB per file" limit (placeholders have a parameter, and every
page passes one).

A stylesheet lays the words over Streamlit's: the original text is hidden with `visibility`,
which also takes it out of the accessibility tree, and the words are the generated content of
a pseudo-element, which browsers make part of the element's accessible name. A screen reader
hears the same words a sighted reader sees (tests/e2e/test_words_on_screens.py)."""

from __future__ import annotations

import json

import streamlit as st

from decisions.i18n import _, language

_OPTION = '[role="option"][data-key="{key}"] [data-item-hl]'
_UPLOAD_BUTTON = (
    '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
)
_UPLOAD_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"] span'


def _replaced(selector: str, words: str) -> str:
    return (
        f"{selector} {{ visibility: hidden; font-size: 0; }}\n"
        f"{selector}::after {{ content: {json.dumps(words, ensure_ascii=False)}; "
        "visibility: visible; font-size: 0.875rem; }}\n"
    )


def stylesheet() -> str:
    """The rules that put the reader's words in Streamlit's widgets ('' in English)."""
    if language() == "en":
        return ""
    size = st.get_option("server.maxUploadSize")
    return "".join(
        (
            _replaced(_OPTION.format(key="__select_all__"), _("Select all")),
            _replaced(_OPTION.format(key="__select_matches__"), _("Select all matches")),
            _replaced(_UPLOAD_BUTTON, _("Upload")),
            _replaced(_UPLOAD_LIMIT, _("At most {size} MB per file", size=size)),
        )
    )


def show() -> None:
    """Add the stylesheet to the page (a style element takes no room on it)."""
    rules = stylesheet()
    if rules:
        st.html(f"<style>\n{rules}</style>")
