"""Argument parsing shared by management commands."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import is_naive, make_aware


def moment_arg(text: str, *, end_of_day: bool) -> datetime:
    """ISO date or datetime; a bare date means its start (--since) or its end (--until), UTC."""
    moment: datetime | None
    if day := parse_date(text):
        moment = datetime.combine(day, datetime.max.time() if end_of_day else datetime.min.time())
    else:
        moment = parse_datetime(text)
    if moment is None:
        raise CommandError(f"not an ISO date or datetime: {text!r}")
    return make_aware(moment) if is_naive(moment) else moment
