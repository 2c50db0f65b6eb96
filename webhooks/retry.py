"""When to try a failed delivery again."""

import random

JITTER = 0.2
MAX_RETRY_AFTER_SECONDS = 24 * 3600


def doubling_delays(*, first: float, cap: float, count: int) -> list[float]:
    """`first`, doubling each time, never above `cap`: the backend's 60 s … 24 h schedule."""
    return [min(first * 2**n, cap) for n in range(max(count, 0))]


def next_retry_delay(
    *, delays: list[float], failed_attempts: int, retry_after: float | None, rng: random.Random | None = None
) -> float:
    """The destination's delay for this retry with ±20 % jitter; a server's Retry-After, when
    longer, wins (capped at a day so a hostile header cannot park a message forever)."""
    base = float(delays[min(failed_attempts, len(delays)) - 1]) if delays else 60.0
    delay = base * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return delay
