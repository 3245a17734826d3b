"""Enterprise tax codes (mã số doanh nghiệp = mã số thuế): 10 digits, or 13 for branches written
`NNNNNNNNNN-NNN`; the check digit is verified with python-stdnum."""

from __future__ import annotations

from stdnum.exceptions import ValidationError
from stdnum.vn import mst


class InvalidTaxCode(ValueError):
    code = "invalid_tax_code"  # its entry in messages.CATALOGUE (the problem handler answers with it)


def normalise_tax_code(raw: str) -> str:
    """The canonical form (`0100109106`, `0100109106-001`); InvalidTaxCode with a readable reason otherwise."""
    try:
        return str(mst.format(mst.validate(raw)))
    except ValidationError as exc:
        raise InvalidTaxCode(
            f"'{raw}' is not a valid Vietnamese tax code ({exc.message.rstrip('.')}); expected 10 digits or "
            "13 as NNNNNNNNNN-NNN with a correct check digit"
        ) from None


def compact(code: str) -> str:
    return str(mst.compact(code))


def canonical(code: str) -> str:
    """The stored form of a code (hyphenated branch suffix), without judging its check digit."""
    return str(mst.format(code))


def same_tax_code(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and compact(a) == compact(b)  # type: ignore[arg-type]


def is_branch_of(code: str | None, head: str | None) -> bool:
    """`code` is a branch unit (`NNNNNNNNNN-NNN`) of the enterprise whose 10-digit tax code is `head`."""
    if not code or not head:
        return False
    branch, parent = compact(code), compact(head)
    return (
        len(parent) == 10 and parent.isdigit() and len(branch) == 13 and branch.isdigit() and branch.startswith(parent)
    )


def within_enterprise(own: str | None, code: str | None) -> bool:
    """`code` is the enterprise `own` itself or one of its branch units (a branch's own code covers only itself)."""
    return same_tax_code(own, code) or is_branch_of(code, own)
