"""The static search index: Pagefind (a well-kept library, with Norwegian stemming) indexes the
decision pages; the search page queries it in the browser. Forgiving æ, ø and å is done on both
sides with one rule (store.folding.fold): each page carries a hidden folded copy of its words, and
assets/search.js folds what the reader types the same way."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from pagefind.service import get_executable

from decisions.i18n import _
from decisions.publish.pages import DECISION_PATH

INDEX_PATH = "pagefind"
# The bundle's parts that the search page uses; Pagefind's ready-made interfaces are left out.
_UNUSED = ("pagefind-ui", "pagefind-modular-ui", "pagefind-component-ui", "pagefind-highlight")


class IndexFailed(RuntimeError):
    """Pagefind is missing or refused the pages."""


def build_index(site: Path) -> dict[str, bytes]:
    """Index the decision pages under `site` (as written there); the bundle's files by their
    path in the site."""
    executable = get_executable()
    if executable is None:
        raise IndexFailed(_("the pagefind binary is missing: pip install 'pagefind[bin]'"))
    with tempfile.TemporaryDirectory(prefix="pagefind-") as bundle:
        done = subprocess.run(
            [str(executable), "--site", str(site), "--glob", f"{DECISION_PATH}/**/*.html",
             "--output-path", bundle, "--silent"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise IndexFailed(_("pagefind failed: {error}",
                                error=done.stderr.strip() or done.stdout.strip()))  # fmt: skip
        root = Path(bundle)
        return {
            f"{INDEX_PATH}/{path.relative_to(root).as_posix()}": path.read_bytes()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.startswith(_UNUSED)
        }
