"""HUB_VAR_DIR moves the embedded database for `make run`/`make test` (the command) and for the hub (the
settings) alike: one place decides the data directory."""

import os
import subprocess
import sys

from django.conf import settings


def settings_and_command_dirs(env: dict[str, str]) -> tuple[str, str]:
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hub.settings'); django.setup(); "
            "from django.conf import settings; print(settings.DATABASES['default']['HOST'])")
    hub = subprocess.run([sys.executable, "-c", code], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True,
                         check=True).stdout.strip()
    command = subprocess.run([sys.executable, "-m", "hub.embedded_postgres", "url"], env=env, cwd=settings.BASE_DIR,
                             capture_output=True, text=True, check=True).stdout.strip()
    return hub, command


def test_hub_var_dir_moves_the_database_of_the_command_and_of_the_hub(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "HUB_VAR_DIR": str(tmp_path / "elsewhere")}

    hub, command = settings_and_command_dirs(env)

    assert hub == str(tmp_path / "elsewhere" / "postgres")
    assert command.startswith("postgres://postgres@" + str(tmp_path / "elsewhere" / "postgres").replace("/", "%2F"))


def test_without_hub_var_dir_both_use_var_postgres():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "HUB_VAR_DIR"}}

    hub, command = settings_and_command_dirs(env)

    expected = str(settings.BASE_DIR / "var" / "postgres")
    assert hub == expected and command.startswith("postgres://postgres@" + expected.replace("/", "%2F"))
