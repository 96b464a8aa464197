"""Streamlit's own texts inside its widgets, in the reader's language where Streamlit 1.67 has
no parameter for them: the multiselect's "Select all" and "Select N matches", and the file
uploader's "Upload" button and "50MB per file" limit (placeholders have a parameter, and every
page passes one).

A stylesheet puts the words in place of Streamlit's: the element holding the original text is
not displayed, which also takes it out of the accessibility tree, and the words are generated
content of its parent, which browsers make part of the parent's accessible name. A screen
reader hears the same words a sighted reader sees (tests/e2e/test_words_on_screens.py)."""

from __future__ import annotations

import json

import streamlit as st

from decisions.i18n import _, language

_OPTION = '[role="option"][data-key="{key}"]'
_UPLOAD_BUTTON = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]'
_UPLOAD_LIMIT = '[data-testid="stFileUploaderDropzoneInstructions"] > div'
# An option's words drawn as Streamlit draws them (its highlight when hovered or focused too);
# ::before, as ::after draws the line under "Select all".
_OPTION_WORDS = ("flex-grow: 1; display: flex; align-items: center; height: 28px; "
                 "padding: 0 8px; border-radius: 6px;")  # fmt: skip
_OPTION_HIGHLIGHT = "background-color: rgba(187, 187, 165, 0.15);"


def _replaced(holder: str, child: str, words: str, style: str = "", where: str = "after") -> str:
    """`holder`'s text (its `child`) replaced by `words`, for the eye and the screen reader."""
    return (
        f"{holder} > {child} {{ display: none; }}\n"
        f"{holder}::{where} {{ content: {json.dumps(words, ensure_ascii=False)}; {style} }}\n"
    )


def _option(key: str, words: str) -> str:
    """The multiselect's bulk option `key` in `words`, highlighted as the others are."""
    option = _OPTION.format(key=key)
    return _replaced(option, "[data-item-hl]", words, _OPTION_WORDS, "before") + (
        f"{option}[data-hovered]::before, {option}[data-focused]::before {{ {_OPTION_HIGHLIGHT} }}\n"
    )


def stylesheet() -> str:
    """The rules that put the reader's words in Streamlit's widgets ('' in English)."""
    if language() == "en":
        return ""
    size = st.get_option("server.maxUploadSize")
    return "".join(
        (
            _option("__select_all__", _("Select all")),
            _option("__select_matches__", _("Select all matches")),
            _replaced(_UPLOAD_BUTTON, "p", _("Upload")),
            _replaced(
                _UPLOAD_LIMIT,
                "span",
                _("At most {size} MB per file", size=size),
                "font-size: 0.875rem;",
            ),  # fmt: skip
        )
    )


def show() -> None:
    """Add the stylesheet to the page (a style element takes no room on it)."""
    rules = stylesheet()
    if rules:
        st.html(f"<style>\n{rules}</style>")
