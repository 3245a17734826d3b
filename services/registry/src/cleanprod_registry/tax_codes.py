"""Enterprise tax codes (mã số doanh nghiệp = mã số thuế): 10 digits, or 13 for branches written
`NNNNNNNNNN-NNN`; the check digit is verified with python-stdnum."""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.vn import mst


class InvalidTaxCode(ValueError):
    pass


def normalise_tax_code(raw: str) -> str:
    try:
        return mst.format(mst.validate(raw))
    except ValidationError as exc:
        raise InvalidTaxCode(
            f"'{raw}' is not a valid Vietnamese tax code ({exc.message.rstrip('.')}); expected 10 digits or "
            "13 as NNNNNNNNNN-NNN with a correct check digit"
        ) from None


def same_tax_code(a: str, b: str) -> bool:
    return mst.compact(a) == mst.compact(b)
