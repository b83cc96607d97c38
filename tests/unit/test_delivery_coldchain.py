"""The cold-chain record's arithmetic: each sample holds until the next one."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from plugins.deliveries import coldchain

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_time_above_counts_from_a_sample_above_the_limit_until_the_next_one() -> None:
    record = coldchain.start(4.0, at(0))
    for seconds, value in [(10, 9.0), (40, 12.0), (70, 7.0), (100, 9.5)]:
        record = coldchain.add(record, value, at(seconds), 8.0)
    assert (record.min_c, record.max_c) == (4.0, 12.0)
    assert record.seconds_above == 60.0  # 9.0 from 10 to 40, 12.0 from 40 to 70; 9.5 is still open
    assert coldchain.above_until(record, at(130), 8.0) == 90.0


def test_old_or_repeated_samples_change_nothing_and_ambient_goods_have_no_limit() -> None:
    record = coldchain.add(coldchain.start(9.0, at(0)), 10.0, at(30), 8.0)
    assert coldchain.add(record, 30.0, at(20), 8.0) == record
    assert coldchain.add(record, 30.0, at(30), 8.0) == record
    ambient = coldchain.add(coldchain.start(25.0, at(0)), 26.0, at(600), None)
    assert ambient.seconds_above == 0.0 and coldchain.above_until(ambient, at(900), None) == 0.0


def test_a_compartment_without_a_reading_at_drop_off_starts_counting_at_its_first_sample() -> None:
    record = coldchain.start(None, at(0))
    record = coldchain.add(record, 9.0, at(50), 8.0)
    record = coldchain.add(record, 9.0, at(80), 8.0)
    assert (record.min_c, record.seconds_above) == (9.0, 30.0)


def test_the_incremental_record_equals_a_step_integration_of_the_samples() -> None:
    rng = random.Random(7)
    samples = sorted((rng.uniform(0, 3600), rng.uniform(0, 14)) for _ in range(200))
    record = coldchain.start(5.0, at(0))
    for seconds, value in samples:
        record = coldchain.add(record, value, at(seconds), 8.0)
    points = [(0.0, 5.0), *samples]
    expected = sum(b[0] - a[0] for a, b in itertools.pairwise(points) if a[1] > 8.0)
    assert abs(record.seconds_above - expected) < 1e-3  # datetimes keep microseconds
    assert record.max_c == max(v for _, v in points) and record.min_c == min(v for _, v in points)
