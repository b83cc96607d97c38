"""The Swedish calendar day that schedules are kept by, around midnight in winter and summer time."""

from datetime import UTC, date, datetime

from backend.lib import local_day


def test_the_local_day_turns_at_swedish_midnight_in_winter_and_summer() -> None:
    assert local_day(datetime(2026, 11, 26, 22, 59, tzinfo=UTC)) == date(2026, 11, 26)  # 23:59 CET
    assert local_day(datetime(2026, 11, 26, 23, 0, tzinfo=UTC)) == date(2026, 11, 27)  # 00:00 CET
    assert local_day(datetime(2026, 6, 30, 21, 59, tzinfo=UTC)) == date(2026, 6, 30)  # 23:59 CEST
    assert local_day(datetime(2026, 6, 30, 22, 0, tzinfo=UTC)) == date(2026, 7, 1)  # 00:00 CEST
