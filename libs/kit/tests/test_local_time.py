"""The programme's local clock (Asia/Ho_Chi_Minh, UTC+07:00)."""

from __future__ import annotations

import datetime as dt

import pytest

from cleanprod_kit.local_time import LOCAL_TZ_NAME, local, local_date


def test_an_evening_in_utc_is_the_next_day_in_hanoi() -> None:
    instant = dt.datetime(2026, 11, 28, 18, 0, tzinfo=dt.UTC)
    assert local_date(instant) == dt.date(2026, 11, 29)
    assert local(instant).hour == 1 and local(instant).utcoffset() == dt.timedelta(hours=7)
    assert local_date(dt.datetime(2026, 11, 28, 16, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 28)
    assert LOCAL_TZ_NAME == "Asia/Ho_Chi_Minh"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        local_date(dt.datetime(2026, 11, 28, 18, 0))
    with pytest.raises(TypeError):
        local_date(dt.date(2026, 11, 28))  # type: ignore[arg-type]
