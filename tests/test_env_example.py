""".env.example lists every environment variable the code reads, with the default the code has.

The variables are found by reading the code (every `env.<type>("NAME", default=…)`, `os.environ`
lookup and the settings' helpers), so a new one fails here until it is listed."""

import ast
from pathlib import Path
from typing import Any

from django.conf import settings

from providers.adapters import ADAPTERS

ROOT = Path(settings.BASE_DIR)
CODE = ["hub", "wallet", "webhooks", "providers", "reconciliation", "mock_services"]
# Read by the processes the hub runs under, or by tests and benchmarks only: not the hub's settings.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "REQUIRE_BROWSER", "CI", "HUB_SCREENSHOT_DIR", "PYTEST_CURRENT_TEST",
                "DJANGO_ALLOW_ASYNC_UNSAFE", "XDG_RUNTIME_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                "PROMETHEUS_MULTIPROC_DIR"}
NO_DEFAULT = object()  # a default the code computes (or a secret's, checked by the production checks)


def read_by_code() -> dict[str, Any]:
    """Each variable the code reads, with its literal default when it has one."""
    found: dict[str, Any] = {}
    for app in CODE:
        for path in (ROOT / app).rglob("*.py"):
            if "tests" in path.parts or "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and (name := _variable(node)):
                    found.setdefault(name, _default(node))
                elif isinstance(node, ast.Call) and (suffix := _per_provider_suffix(node)):
                    for provider in ADAPTERS:  # f"{prefix}_AUTH_MODE": one variable per registered provider
                        found.setdefault(f"{provider.upper()}{suffix}", NO_DEFAULT)
    return found


def _per_provider_suffix(call: ast.Call) -> str | None:
    """`_AUTH_MODE` of `env.str(f"{prefix}_AUTH_MODE", …)` or `os.environ.get(f"{…}_AUTH_MODE")`: a name built
    from a provider's, which the reader cannot see as a constant."""
    function = call.func
    reads = isinstance(function, ast.Attribute) and (
        (isinstance(function.value, ast.Name) and function.value.id == "env")
        or (function.attr == "get" and isinstance(function.value, ast.Attribute) and function.value.attr == "environ"))
    first = call.args[0] if call.args else None
    if not reads or not isinstance(first, ast.JoinedStr) or len(first.values) != 2:
        return None
    placeholder, suffix = first.values
    if isinstance(placeholder, ast.FormattedValue) and isinstance(suffix, ast.Constant) and str(suffix.value).startswith("_"):
        return str(suffix.value)
    return None


def _variable(call: ast.Call) -> str | None:
    function = call.func
    names = [arg.value for arg in call.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
    if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
        if function.value.id == "env" and names:  # env.str("NAME", …), env.int(…), …
            return names[0]
        if function.value.id == "os" and function.attr == "getenv" and names:
            return names[0]
    if isinstance(function, ast.Attribute) and function.attr == "get" and isinstance(function.value, ast.Attribute) \
            and function.value.attr == "environ" and names:
        return names[0]
    if isinstance(function, ast.Name) and function.id == "_secret" and len(names) == 2:
        return names[1]
    if isinstance(function, ast.Name) and function.id == "_url" and names:
        return names[0]
    return None


def _default(call: ast.Call) -> Any:
    for keyword in call.keywords:
        if keyword.arg == "default":
            try:
                return ast.literal_eval(keyword.value)
            except ValueError:
                return NO_DEFAULT
    return NO_DEFAULT


def listed() -> dict[str, str]:
    values = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, rest = line.partition("=")
            values[name.strip()] = rest.split("  #")[0].split(" #")[0].strip()
    return values


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_variable_the_code_reads_is_in_env_example():
    missing = sorted(set(read_by_code()) - set(listed()) - NOT_SETTINGS)

    assert missing == []


def test_every_listed_default_is_the_codes():
    example = listed()
    differing = {name: (as_text(default), example[name]) for name, default in read_by_code().items()
                 if name in example and default is not NO_DEFAULT and as_text(default) != example[name]}

    assert differing == {}


def test_the_reader_finds_what_it_should():
    found = read_by_code()

    assert {"DATABASE_URL", "WALLET_ROLLBACK_WAIT_SECONDS", "HUB_ROOT_URLCONF", "OPERATOR_API_KEY"} <= set(found)
    assert found["WALLET_ROLLBACK_WAIT_SECONDS"] == 3.0
    # read through f-strings, one per provider (providers/config.py, the fakes)
    assert {"DELIVEROO_AUTH_MODE", "UBEREATS_AUTH_MODE", "CAREEM_IP_ALLOWLIST", "UBEREATS_DEFAULT_CURRENCY"} <= set(found)
