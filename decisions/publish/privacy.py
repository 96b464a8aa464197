"""No personal data in the published log: free text (a rationale, a version's reason, a
withdrawal's reason) may name a person or give an email address, and both are taken out."""

from __future__ import annotations

import re
from collections import defaultdict

from decisions.i18n import _

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")
_WORD = re.compile(r"\w+")


class Redactor:
    """Replaces every email address and every full name of the directory in a text. Names are
    found word by word (a dict on each name's first word), so thousands of names cost one pass."""

    def __init__(self, names: list[str]):
        self._by_first: dict[str, list[str]] = defaultdict(list)
        for name in {n.strip().casefold() for n in names if n.strip()}:
            first = _WORD.search(name)
            if first:
                self._by_first[first.group()].append(name)
        for candidates in self._by_first.values():
            candidates.sort(key=len, reverse=True)

    def __call__(self, text: str | None) -> str:
        if not text:
            return ""
        text = EMAIL.sub(_("[email address removed]"), text)
        folded = text.casefold()
        if len(folded) != len(text):  # a letter whose case folds to two: compare as written
            folded = text
        spans: list[tuple[int, int]] = []
        for word in _WORD.finditer(folded):
            if spans and word.start() < spans[-1][1]:
                continue
            for name in self._by_first.get(word.group(), ()):
                end = word.start() + len(name)
                if folded.startswith(name, word.start()) and not _continues(folded, end):
                    spans.append((word.start(), end))
                    break
        for start, end in reversed(spans):
            text = text[:start] + _("[name removed]") + text[end:]
        return text


def _continues(text: str, end: int) -> bool:
    """Whether the word at `end` goes on (so "Per" in "Persson" is not the name Per)."""
    return end < len(text) and (text[end].isalnum() or text[end] == "_")
