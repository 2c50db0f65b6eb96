import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def ensure_admin(capsys) -> str:
    call_command("ensure_admin")
    return capsys.readouterr().out


def test_creates_an_admin_with_a_random_password_printed_once(capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_USERNAME", raising=False)
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)

    first = ensure_admin(capsys)
    second = ensure_admin(capsys)

    password = re.search(r"password '([^']+)' \(shown once\)", first).group(1)
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    assert len(password) >= 16
    assert password not in second and "password unchanged" in second


def test_two_fresh_installs_get_different_passwords(capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    first = re.search(r"password '([^']+)'", ensure_admin(capsys)).group(1)
    get_user_model().objects.all().delete()
    second = re.search(r"password '([^']+)'", ensure_admin(capsys)).group(1)

    assert first != second


def test_uses_the_username_and_password_from_the_environment(capsys, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "ops")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-chosen-password")

    out = ensure_admin(capsys)

    assert get_user_model().objects.get(username="ops").check_password("a-long-chosen-password")
    assert "a-long-chosen-password" not in out
