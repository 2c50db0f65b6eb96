from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from hub import crypto
from hub.http import parse_retry_after
from webhooks.tests.factories import DestinationFactory

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 7 ", 7.0), ("Sun, 22 Nov 2026 12:00:30 GMT", 30.0), ("Sun, 22 Nov 2026 11:00:00 GMT", 0.0),
     ("soon", None), ("", None), (None, None), ("-5", None)],
)
def test_retry_after_accepts_seconds_and_http_dates(header, seconds):
    assert parse_retry_after(header, now=NOW) == seconds


@pytest.mark.django_db
def test_secrets_are_encrypted_at_rest_and_read_back_in_clear():
    destination = DestinationFactory(signing_secrets="whsec_plain-secret", auth_header_value="api-key-123")

    with connection.cursor() as cursor:
        cursor.execute("SELECT signing_secrets, auth_header_value FROM webhooks_destination WHERE id = %s", [destination.id])
        stored = cursor.fetchone()
    destination.refresh_from_db()

    assert "plain-secret" not in stored[0] and "api-key-123" not in stored[1]
    assert (destination.signing_secrets, destination.auth_header_value) == ("whsec_plain-secret", "api-key-123")


def test_a_new_key_first_still_reads_tokens_of_the_old_key(settings):
    old_token = crypto.encrypt("rotating")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    assert crypto.decrypt(old_token) == "rotating"
    rotated = crypto.rotate(old_token)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(rotated) == "rotating"
    with pytest.raises(ValueError, match="FIELD_ENCRYPTION_KEYS"):
        crypto.decrypt(old_token)


@pytest.mark.django_db
def test_rotate_encrypted_fields_moves_stored_secrets_to_the_new_key(settings):
    from django.core.management import call_command

    destination = DestinationFactory(signing_secrets="whsec_before-rotation", auth_header_value="key-1")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    call_command("rotate_encrypted_fields")

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone
    destination.refresh_from_db()
    assert (destination.signing_secrets, destination.auth_header_value) == ("whsec_before-rotation", "key-1")
