"""Valid test identifiers."""

from __future__ import annotations

import random

from stdnum.vn import mst


def random_tax_code(rng: random.Random | None = None) -> str:
    """A random 10-digit tax code with a correct check digit (province prefix 01 = Hà Nội)."""
    rng = rng or random.Random()
    while True:
        body = "01" + "".join(rng.choice("0123456789") for _ in range(7))
        for check in "0123456789":
            if mst.is_valid(body + check):
                return body + check
