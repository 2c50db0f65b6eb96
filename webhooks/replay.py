"""Dead letters back into the queue, audited. A replayed message keeps its webhook-id."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webhooks.models import OutboxMessage, ReplayAudit
from webhooks.nudges import nudge

Status = OutboxMessage.Status


def staff_user(request: HttpRequest) -> User | None:
    """The signed-in user an admin action is recorded with."""
    return request.user if isinstance(request.user, User) else None


@transaction.atomic
def outbox_replay(
    *, messages: QuerySet[OutboxMessage], actor: str, filters: dict, user: User | None = None
) -> int:
    """Make the dead letters among `messages` pending again with a fresh attempt budget."""
    count = messages.filter(status=Status.DEAD_LETTER).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), leased_until=None, lease_token=""
    )
    ReplayAudit.objects.create(user=user, actor=actor, count=count, filters=filters)
    if count:
        transaction.on_commit(nudge)
    return count
