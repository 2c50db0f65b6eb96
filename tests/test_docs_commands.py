"""Every `manage.py` command README.md and docs/ tell someone to type exists and accepts the
arguments written there (placeholders filled in, the first of `a|b` alternatives, optional `[…]` parts
included; a bare name in prose only has to exist): a renamed command or flag fails here before an
operator finds it at 3 a.m."""

import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands, load_command_class

ROOT = Path(settings.BASE_DIR)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
COMMAND = re.compile(r"manage\.py ([a-z_]+)([^`\n#]*)")
PLACEHOLDERS = {"USERNAME": "ops", "FILE": "order.json", "P": "careem", "D": "2026-11-01", "DIR": "reports",
                "N": "8001", "…": "2026-11-01", "<provider>": "careem"}


def mentioned() -> list[tuple[str, str, list[str]]]:
    found = []
    for doc in DOCS:
        for name, rest in COMMAND.findall(doc.read_text()):
            rest = rest.split("  ")[0].replace("[", " ").replace("]", " ")  # optional parts, included
            words = []
            for word in shlex.split(rest.replace("|", " | "), posix=True):
                if word == "|":
                    continue
                words.append(PLACEHOLDERS.get(word, word))
            found.append((doc.name, name, _first_alternatives(rest, words)))
    return found


def _first_alternatives(rest: str, words: list[str]) -> list[str]:
    """`a|b|c` stands for one word: keep `a`."""
    alternatives = re.findall(r"(\S+(?:\|\S+)+)", rest)
    for group in alternatives:
        options = group.split("|")
        words = [word for word in words if word not in options[1:]]
    return words


@pytest.mark.parametrize(("doc", "name", "args"), mentioned(), ids=lambda value: str(value)[:40])
def test_a_documented_command_exists_and_takes_its_documented_arguments(doc, name, args):
    commands = get_commands()
    assert name in commands, f"{doc} names manage.py {name}, which does not exist"
    command = load_command_class(commands[name], name)
    parser = command.create_parser("manage.py", name)
    if not args:  # named in prose ("… `manage.py replay_dead_letters` does the same"), not an instruction
        return
    if name == "reconcile" and "--from" in args and "--date" in args:  # "--date D | --from D --to D": either
        args = args[:args.index("--from")]
    parser.parse_args(args)  # exits (SystemExit) on an unknown command-line


def test_the_docs_name_commands_at_all():
    names = {name for _, name, _ in mentioned()}
    assert {"drop_provider_token", "reprocess_webhooks", "replay_dead_letters", "reconcile", "wallet_request"} <= names
