"""Idempotency-Key semantics (IETF draft): one answer per (client, key), replayed byte for byte."""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hub import errors
from wallet import statements
from wallet.answers import Answer
from wallet.models import IdempotencyKey, WalletTransaction

PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]{1,255}")
SF_STRING = re.compile(r'"((?:[^"\\]|\\["\\])*)"')


@dataclass(frozen=True)
class Started:
    record_id: int


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


class InFlight:
    pass


@dataclass(frozen=True)
class AnswerUnderKey:
    """Keeps a settlement's answer under the request's Idempotency-Key. A debit's or credit's settlement
    writes it in its own statement, by `record_id` (`wallet.statements.settle_answer_and_enqueue`); a
    rollback's calls this."""

    record_id: int

    def __call__(self, answer: Answer) -> None:
        idempotency_complete(record_id=self.record_id, status=answer.status, body=answer.body)


class Reused:
    pass


def in_flight_lease() -> timedelta:
    """Longer than one request can take; after it a crashed request's key is taken over."""
    return timedelta(seconds=settings.OPERATOR_RETRY_DEADLINE_SECONDS + 2 * settings.OPERATOR_TIMEOUT_SECONDS + 5)


def parse_idempotency_key(header: str | None) -> str:
    """The key, unquoting the structured-field string form ("abc" → abc)."""
    if header is None or header == "":
        raise errors.ValidationFailed(
            "The Idempotency-Key header is required.", code="MISSING_IDEMPOTENCY_KEY"
        )
    if quoted := SF_STRING.fullmatch(header):
        header = re.sub(r"\\([\"\\])", r"\1", quoted.group(1))
    if not PRINTABLE_ASCII.fullmatch(header):
        raise errors.ValidationFailed(
            "Idempotency-Key must be 1 to 255 printable ASCII characters.", code="INVALID_IDEMPOTENCY_KEY"
        )
    return header


def request_fingerprint(*, method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b"\n" + path.encode() + b"\n" + body).hexdigest()


def idempotency_begin(*, client_id: str, key: str, fingerprint: str, with_row: WalletTransaction | None = None
                      ) -> Started | Replay | InFlight | Reused:
    """`with_row`, a new row of the request's own (a debit's PENDING transaction), is written in the same
    statement as a new key, and only then: it keeps no id when the key existed, or when a unique
    constraint held the row back."""
    now = timezone.now()
    for _ in range(3):  # the row may be released between our insert and our read
        new = IdempotencyKey(client_id=client_id, key=key, fingerprint=fingerprint,
                             locked_until=now + in_flight_lease(), created_at=now)
        if statements.new_key(new, with_row=with_row):
            return Started(new.id)  # a new key: the usual case, one statement
        with transaction.atomic():
            existing = IdempotencyKey.objects.select_for_update().filter(client_id=client_id, key=key).first()
            if existing is None:
                continue
            record = existing
            if record.fingerprint != fingerprint:
                return Reused()
            if record.status == IdempotencyKey.Status.COMPLETED and record.response_status is not None:
                return Replay(status=record.response_status, body=record.response_body)
            if record.locked_until > now:
                return InFlight()
            record.locked_until = now + in_flight_lease()  # the first request died: take over
            record.save(update_fields=["locked_until"])
            return Started(record.id)
    return InFlight()


def idempotency_complete(*, record_id: int, status: int, body: str) -> None:
    statements.complete_key(record_id=record_id, status=status, body=body)


def idempotency_release(*, record_id: int) -> None:
    """Forget an in-flight key whose answer must not be kept (invalid body, unknown outcome)."""
    IdempotencyKey.objects.filter(id=record_id, status=IdempotencyKey.Status.IN_FLIGHT).delete()


def idempotency_purge(*, older_than_hours: int | None = None) -> int:
    hours = settings.IDEMPOTENCY_KEY_TTL_HOURS if older_than_hours is None else older_than_hours
    return IdempotencyKey.objects.filter(created_at__lt=timezone.now() - timedelta(hours=hours)).delete()[0]
