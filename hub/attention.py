"""The admin's first screen: what needs attention, and the last 24 hours per hour.

Apps register what they know at startup (`AppConfig.ready`): `register_figures(fn)` with a function
returning `Figure`s (a count and the filtered changelist where it is fixed) and `register_charts(fn)`
with one returning `Chart`s (hourly series). The hub imports no app; the admin index template asks
this module. A database outage shows as one alarming figure instead of an error page.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.db import DatabaseError
from django.utils import timezone

logger = structlog.get_logger(__name__)
HOURS = 24


@dataclass(frozen=True)
class Figure:
    section: str  # "Outbox", "Wallet", …
    label: str
    value: str
    url: str  # where it is fixed
    alarm: bool  # needs someone now
    detail: str = ""


@dataclass(frozen=True)
class Series:
    name: str
    values: list[int]  # one per hour, oldest first


@dataclass(frozen=True)
class Chart:
    title: str
    series: list[Series] = field(default_factory=list)


_figures: list[Callable[[], list[Figure]]] = []
_charts: list[Callable[[list[datetime]], list[Chart]]] = []


def register_figures(collect: Callable[[], list[Figure]]) -> None:
    _figures.append(collect)


def register_charts(collect: Callable[[list[datetime]], list[Chart]]) -> None:
    _charts.append(collect)


def hours_until(now: datetime | None = None) -> list[datetime]:
    """The starts of the last 24 hours, oldest first, the current (partial) hour last."""
    current = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=HOURS - 1 - n) for n in range(HOURS)]


def hourly(rows: list[tuple[datetime, str, int]], hours: list[datetime]) -> list[Series]:
    """(hour, series name, count) rows from a TruncHour query as one series per name, zeros filled."""
    index = {hour: n for n, hour in enumerate(hours)}
    series: dict[str, list[int]] = {}
    for hour, name, count in rows:
        values = series.setdefault(name, [0] * len(hours))
        if hour in index:
            values[index[hour]] += count
    return [Series(name, values) for name, values in sorted(series.items())]


def attention_figures() -> list[Figure]:
    figures: list[Figure] = []
    for collect in _figures:
        try:
            figures.extend(collect())
        except DatabaseError:
            logger.warning("attention_read_failed", exc_info=True)
            return [Figure("Hub", "Database", "unavailable", "", alarm=True, detail="figures cannot be read")]
    return figures


def attention_charts(now: datetime | None = None) -> list[Chart]:
    hours = hours_until(now)
    charts: list[Chart] = []
    for collect in _charts:
        try:
            charts.extend(collect(hours))
        except DatabaseError:
            logger.warning("attention_charts_failed", exc_info=True)
            return []
    return charts
