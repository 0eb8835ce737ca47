from datetime import timedelta

from config import backoff

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def delays(jitter=0.0, **kwargs):
    return [
        backoff.delay(n, first=timedelta(seconds=30), factor=4, cap=HOUR, jitter=jitter, **kwargs)
        for n in range(1, 7)
    ]


def test_it_grows_by_the_factor_up_to_the_cap():
    assert delays() == [
        timedelta(seconds=30),
        2 * MINUTE,
        8 * MINUTE,
        32 * MINUTE,
        HOUR,
        HOUR,
    ]


def test_it_spreads_by_the_jitter():
    for n, plain in enumerate(delays(), start=1):
        for _ in range(20):
            spread = backoff.delay(n, first=timedelta(seconds=30), factor=4, cap=HOUR, jitter=0.2)
            assert plain * 0.8 <= spread <= plain * 1.2


def test_it_waits_at_least_what_the_other_side_asked():
    assert delays(retry_after=10 * MINUTE)[:4] == [10 * MINUTE] * 3 + [32 * MINUTE]
    assert delays(retry_after=None)[0] == timedelta(seconds=30)


def test_a_row_failing_for_weeks_does_not_overflow():
    assert backoff.delay(10_000, first=MINUTE, factor=4, cap=HOUR) == HOUR
