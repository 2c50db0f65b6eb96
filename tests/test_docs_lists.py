"""Every list in the docs that mirrors a registry is checked against the registry, so a provider, metric,
alert, command choice, sync status, error code or fake added in code cannot be left out of the docs (the
class behind most stale findings of the docs audit). Env vars: tests/test_env_example.py and
tests/test_configuration_doc.py."""

import ast
import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import get_commands, load_command_class

from mock_services.registry import DEFAULT_PORTS
from providers.adapters import ADAPTERS
from providers.models import MenuSync

ROOT = Path(settings.BASE_DIR)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs" / "postman" / "README.md"]
INTEGRATION = (ROOT / "docs" / "INTEGRATION.md").read_text()
ALTERNATIVES = re.compile(r"(?<![\w/|-])([a-z][a-z0-9_-]*(?:\|[a-z][a-z0-9_-]*)+)(?![\w-])")


def alternative_groups(after: str = "") -> list[tuple[str, set[str]]]:
    """Every `a|b|c` written in the docs (after `after` on its line, when given), with where it is."""
    return [(f"{doc.name}:{n}", set(match.split("|"))) for doc in DOCS
            for n, line in enumerate(doc.read_text().splitlines(), 1) if after in line
            for match in ALTERNATIVES.findall(line.split(after, 1)[1] if after else line)]


def test_a_list_of_providers_names_every_provider():
    partial = [(where, sorted(group)) for where, group in alternative_groups()
               if len(group) >= 2 and group <= set(ADAPTERS) and group != set(ADAPTERS)]
    assert partial == [], f"name every registered provider: {'|'.join(sorted(ADAPTERS))}"


def test_a_list_of_fakes_names_every_fake():
    fakes = set(DEFAULT_PORTS)
    partial = [(where, sorted(group)) for where, group in alternative_groups()
               if len(group) >= 3 and group <= fakes and not group <= set(ADAPTERS) and group != fakes]
    assert partial == []


def test_the_readme_gives_each_fake_its_port():
    readme = (ROOT / "README.md").read_text()
    listed = dict(re.findall(r"\| (\w+)[^|]*\| (80\d\d) \|", readme))
    assert listed == {name: str(port) for name, port in DEFAULT_PORTS.items()}


@pytest.mark.parametrize("name", sorted(get_commands()))
def test_a_commands_choices_are_documented_whole(name):
    """Where the docs write a command's choices as `a|b|c`, they are all of them."""
    if not (ROOT / "providers").exists() or get_commands()[name] == "django.core":
        return
    parser = load_command_class(get_commands()[name], name).create_parser("manage.py", name)
    choices = [set(map(str, action.choices)) for action in parser._actions if action.choices]
    written = [(where, group) for where, group in alternative_groups(f"manage.py {name} ") for options in choices
               if len(group & options) >= 2 and group <= options and group != options]
    assert written == []


def test_every_metric_the_hub_exports_is_in_integration(client, db):
    exported = {name for name in re.findall(r"^# HELP (hub_\w+)", client.get("/metrics").content.decode(), re.M)
                if not name.endswith("_created")}  # the client library's creation time of each counter's series
    assert len(exported) > 20
    assert sorted(name for name in exported if f"`{name}" not in INTEGRATION) == []


def test_the_runbooks_list_of_alerts_is_the_rules():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    runbook = (ROOT / "docs" / "RUNBOOK.md").read_text()
    listed = set(re.findall(r"^\| `(\w+)` \| \[", runbook, re.M))
    assert listed == {rule["alert"] for group in rules["groups"] for rule in group["rules"]}


def test_every_sync_status_is_in_integration():
    statuses = {*MenuSync.State.values, "never_published", "not_supported"}
    assert sorted(status for status in statuses if f"`{status}`" not in INTEGRATION) == []


def error_codes() -> set[str]:
    """Every `code = "…"` of an error class in the apps."""
    codes = set()
    for app in ("hub", "wallet", "providers", "webhooks", "reconciliation"):
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    for statement in node.body:
                        if (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                                and isinstance(statement.targets[0], ast.Name) and statement.targets[0].id == "code"
                                and isinstance(statement.value, ast.Constant) and isinstance(statement.value.value, str)):
                            codes.add(statement.value.value)
    return codes


def test_every_error_code_is_in_integration():
    codes = error_codes()
    assert {"VALIDATION_ERROR", "LOCATION_NOT_FOUND", "INVALID_MENU"} <= codes
    assert sorted(code for code in codes if f"`{code}`" not in INTEGRATION) == []


def test_the_reconciliation_csvs_columns_are_integrations():
    from reconciliation.services import CSV_HEADER

    assert f"`{','.join(CSV_HEADER)}`" in INTEGRATION


def test_no_doc_points_outside_the_repository():
    """A clone has the repository only: the docs never send a reader to the brief it was built from."""
    outside = re.compile(r"\.\./shared|SPEC(?:\.md| §)|providers-(?:formats|menus)\.md|STYLE\.md")
    assert [f"{doc.name}:{n}" for doc in DOCS for n, line in enumerate(doc.read_text().splitlines(), 1)
            if outside.search(line)] == []
