"""Money and basis-point fields: integers as JSON Schema means them (34120658.0 is the integer 34120658), nothing
else."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from cleanprod_applications.schemas import BasisPoints, PositiveVnd, Vnd


class Amounts(BaseModel):
    total: Vnd
    support: PositiveVnd
    rate: BasisPoints


def test_a_number_without_a_fraction_is_that_integer() -> None:
    amounts = Amounts(total=34_120_658.0, support=1.0, rate=5000.0)
    assert (amounts.total, amounts.support, amounts.rate) == (34_120_658, 1, 5000)
    assert all(type(v) is int for v in (amounts.total, amounts.support, amounts.rate))


@pytest.mark.parametrize("bad", ["1000", 1000.5, True, None, float("nan"), float("inf")])
def test_strings_fractions_booleans_and_non_numbers_stay_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        Amounts(total=bad, support=1, rate=1)


def test_the_bounds_still_hold_for_whole_floats() -> None:
    with pytest.raises(ValidationError):
        Amounts(total=0, support=0.0, rate=1)
    with pytest.raises(ValidationError):
        Amounts(total=0, support=1, rate=10_001.0)


def test_a_review_count_is_read_the_same_way() -> None:
    from cleanprod_applications.calls.schemas import ReviewCount

    class Reviews(BaseModel):
        min_reviews: ReviewCount

    assert Reviews(min_reviews=2.0).min_reviews == 2
    for bad in ("2", 2.5, True, 0.0, 21.0):
        with pytest.raises(ValidationError):
            Reviews(min_reviews=bad)
