"""docs/CONFIGURATION.md's table and .env.example name the same variables: a variable added to one and not the
other fails here (the env test already keeps .env.example in step with the code)."""

import re
from pathlib import Path

from django.conf import settings

from providers.adapters import ADAPTERS
from tests.test_env_example import listed

ROOT = Path(settings.BASE_DIR)
NAME = re.compile(r"`([A-Z][A-Z0-9_]{2,}|<PROVIDER>_[A-Z_]+)`")


def documented() -> set[str]:
    names: set[str] = set()
    for line in (ROOT / "docs" / "CONFIGURATION.md").read_text().splitlines():
        if not line.startswith("| `"):
            continue
        first_column = line.split(" | ")[0]
        for name in NAME.findall(first_column):
            if name.startswith("<PROVIDER>_"):  # one per registered provider
                names.update(f"{provider.upper()}{name[len('<PROVIDER>'):]}" for provider in ADAPTERS)
            else:
                names.add(name)
    return names


def test_the_configuration_doc_names_every_variable_of_env_example_and_no_other():
    assert (sorted(set(listed()) - documented()), sorted(documented() - set(listed()))) == ([], [])
