"""The two destinations SPEC names, created from the environment and editable in the admin."""

import os

from django.conf import settings
from django.db import transaction

from hub.signing import secret_list
from webhooks.models import Destination, DestinationCircuit
from webhooks.retry import doubling_delays

RGS_RETRY_DELAYS = [1, 5, 15, 60, 300]
BACKEND_FIRST_DELAY, BACKEND_MAX_DELAY = 60, 24 * 3600


def _declared() -> dict[str, dict]:
    """Each destination's fields, and the environment variable behind each field."""
    return {
        "rgs": {
            "url": (settings.RGS_WEBHOOK_URL, "RGS_WEBHOOK_URL"),
            "signing_secrets": (settings.RGS_WEBHOOK_SECRET, "RGS_WEBHOOK_SECRET"),
            "retry_delays": (RGS_RETRY_DELAYS, None),
            "max_attempts": (settings.WEBHOOK_MAX_RETRIES + 1, "WEBHOOK_MAX_RETRIES"),
        },
        "backend": {
            "url": (settings.BACKEND_URL, "BACKEND_URL"),
            "auth_header_name": ("X-AUTH", None),
            "auth_header_value": (secret_list(settings.BACKEND_API_KEY)[0], "BACKEND_API_KEY"),  # "new,old": the new
            "signing_secrets": (settings.BACKEND_WEBHOOK_SECRET, "BACKEND_WEBHOOK_SECRET"),
            "retry_delays": (
                doubling_delays(first=BACKEND_FIRST_DELAY, cap=BACKEND_MAX_DELAY, count=settings.RETRY_MAX_ATTEMPTS - 1),
                "RETRY_MAX_ATTEMPTS",
            ),
            "max_attempts": (settings.RETRY_MAX_ATTEMPTS, "RETRY_MAX_ATTEMPTS"),
        },
    }


@transaction.atomic
def destinations_sync_from_env() -> dict[str, str]:
    """Create missing destinations; on existing ones overwrite only the fields whose variable
    is set in the environment, so edits made in the admin survive a plain restart."""
    report = {}
    for name, fields in _declared().items():
        destination = Destination.objects.select_for_update().filter(name=name).first()
        if destination is None:
            destination = Destination.objects.create(name=name, **{f: value for f, (value, _) in fields.items()})
            report[name] = "created"
        else:
            changed = {f: value for f, (value, variable) in fields.items() if variable and variable in os.environ}
            for field, value in changed.items():
                setattr(destination, field, value)
            if changed:
                destination.save(update_fields=list(changed))
            report[name] = f"updated {', '.join(sorted(changed))}" if changed else "unchanged"
        DestinationCircuit.objects.get_or_create(destination=destination)
    return report
