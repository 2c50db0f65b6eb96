import random

import pytest

from webhooks.retry import doubling_delays, next_retry_delay

RGS = [1, 5, 15, 60, 300]


@pytest.mark.parametrize(("failed", "base"), [(1, 1), (2, 5), (3, 15), (4, 60), (5, 300), (9, 300)])
def test_each_retry_uses_its_delay_within_twenty_percent(failed, base):
    rng = random.Random(7)
    delays = [next_retry_delay(delays=RGS, failed_attempts=failed, retry_after=None, rng=rng) for _ in range(200)]

    assert base * 0.8 <= min(delays) and max(delays) <= base * 1.2
    assert max(delays) - min(delays) > base * 0.2  # really jittered, not a constant


def test_a_longer_retry_after_wins_and_a_shorter_one_does_not():
    assert next_retry_delay(delays=RGS, failed_attempts=1, retry_after=120, rng=random.Random(1)) == 120
    assert next_retry_delay(delays=[300], failed_attempts=1, retry_after=2, rng=random.Random(1)) >= 240


def test_retry_after_is_capped_at_a_day():
    assert next_retry_delay(delays=RGS, failed_attempts=1, retry_after=10**9) == 24 * 3600


def test_the_backend_schedule_doubles_from_a_minute_up_to_a_day():
    assert doubling_delays(first=60, cap=86400, count=9) == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360]
    assert doubling_delays(first=60, cap=86400, count=13)[-2:] == [86400, 86400]
