"""Folding: what a search forgives. Norwegian letters typed without a Norwegian keyboard (ø as
o, å as a or aa, æ as ae), case, and other accents (é, ü). One rule, in `fold`; the database
keeps a folded copy of the decisions' texts made by `fold_sql`, the same rule in SQL (the schema's
triggers). Imports nothing of the store, so the schema can use it."""

from __future__ import annotations

import unicodedata

FOLDED_LETTERS = (("Æ", "ae"), ("æ", "ae"), ("Ø", "o"), ("ø", "o"), ("Å", "a"), ("å", "a"))
FOLDED_AFTER_LOWER = (("aa", "a"),)


def fold(text: str) -> str:
    """`text` as the search compares it: "Blodprøve" and "blodprove" are both "blodprove",
    "Ålesund" and "Aalesund" both "alesund", "Vær" is "vaer"."""
    for letter, plain in FOLDED_LETTERS:
        text = text.replace(letter, plain)
    text = text.lower()
    for pair, plain in FOLDED_AFTER_LOWER:
        text = text.replace(pair, plain)
    # Other accents go as the full-text index's tokenizer drops them (remove_diacritics 2).
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold_sql(expression: str) -> str:
    """`fold` as an SQL expression of `expression` (for the folded index's triggers): the same
    replacements; SQLite's lower() folds ASCII only and the index's tokenizer (unicode61,
    remove_diacritics 2) folds the case and accents of the rest."""
    for letter, plain in FOLDED_LETTERS:
        expression = f"replace({expression}, '{letter}', '{plain}')"
    expression = f"lower({expression})"
    for pair, plain in FOLDED_AFTER_LOWER:
        expression = f"replace({expression}, '{pair}', '{plain}')"
    return expression
