"""Valid test identifiers, and the support-call terms the tests' award arithmetic is written against."""

from __future__ import annotations

import random
from typing import Any

from stdnum.vn import mst


def random_tax_code(rng: random.Random | None = None) -> str:
    """A random 10-digit tax code with a correct check digit (province prefix 01 = Hà Nội)."""
    rng = rng or random.Random()
    while True:
        body = "01" + "".join(rng.choice("0123456789") for _ in range(7))
        for check in "0123456789":
            if mst.is_valid(body + check):
                return body + check


def call_terms() -> dict[str, Any]:
    """A call's money and review terms: 50 % support, at most 2 000 M a project and 10 000 M in all, steel and beer,
    two reviews, passed at 60 % (service and end-to-end tests compute awards from these)."""
    return {
        "budget_vnd": 10_000_000_000,
        "support_rate_bp": 5_000,
        "cap_per_project_vnd": 2_000_000_000,
        "eligible_sectors": ["steel", "beer"],
        "min_reviews": 2,
        "pass_score_pct": 60,
    }
