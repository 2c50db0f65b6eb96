"""A regular expression anchored with `$` matches before a final newline: `re.match(r"^[A-Z]+$", "FRIES\n")`
matches, and so an id with a trailing newline was accepted beside the plain one (campaign 3, M1). The
project's patterns are unanchored and used with `fullmatch`; this test keeps a `$`-anchored pattern out."""

import ast
from pathlib import Path

from django.conf import settings

SOURCES = ("hub", "wallet", "providers", "webhooks", "reconciliation", "mock_services", "bench", ".ci")


def compiled_patterns() -> list[tuple[str, int, str]]:
    found = []
    for folder in SOURCES:
        for path in sorted((settings.BASE_DIR / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                        and node.func.attr in {"compile", "match", "search"} and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str | bytes)):
                    pattern = node.args[0].value
                    found.append((str(Path(path).relative_to(settings.BASE_DIR)), node.lineno,
                                  pattern.decode("latin-1") if isinstance(pattern, bytes) else pattern))
    return found


def test_the_walk_finds_the_projects_patterns():
    assert any(path == "providers/menu_document.py" for path, _, _ in compiled_patterns())


def test_no_pattern_ends_with_a_dollar_that_a_trailing_newline_slips_past():
    anchored = [(path, line, pattern) for path, line, pattern in compiled_patterns()
                if pattern.endswith("$") and not pattern.endswith("\\$")]
    assert anchored == [], "use fullmatch without ^…$ (or \\Z): $ matches before a final newline"
