"""Measured figures live in one place, docs/PERFORMANCE.md: README and the other docs refer to it and copy
none (copies went stale: SCALING.md kept two steps' old outbox figure). Targets (≤, ≥) are not figures."""

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
FIGURE = re.compile(r"(?<![\d.,])(?<![≤≥] )\d[\d,.]*(?:\s*[–-]\s*\d[\d,.]*)?\s*"
                    r"(?:ms|deliveries/s|debits/s|orders/s|msg/s|messages/s|req/s|requests/s|per second|MB)(?![\w/])")


def figures(path: Path) -> list[str]:
    return [f"{path.name}:{n}: {match.group(0)}" for n, line in enumerate(path.read_text().splitlines(), 1)
            for match in FIGURE.finditer(line)]


COPYING_NONE = ["README.md", "docs/SCALING.md", "docs/RUNNING.md", "docs/TESTING.md", "docs/TRY_IT.md",
                "docs/CONFIGURATION.md", "docs/PRODUCTION.md"]


def test_readme_and_the_docs_copy_no_measured_figure():
    assert [figure for name in COPYING_NONE for figure in figures(ROOT / name)] == []


def test_the_check_sees_a_copied_figure(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("outbox: about 1,250–1,800 deliveries/s; debit 2.3 ms; target ≤ 20 ms; 30000 ms default\n")

    assert figures(page) == ["page.md:1: 1,250–1,800 deliveries/s", "page.md:1: 2.3 ms", "page.md:1: 30000 ms"]
