import re
from pathlib import Path

import pytest

from cleanprod_applications.domain.egov_status import (
    MAPPING,
    UNUSED,
    egov_status,
    render_markdown_table,
)
from cleanprod_applications.domain.egov_status import (
    EgovStatus as E,
)
from cleanprod_applications.domain.lifecycle import ApplicationStatus as S

DOC = Path(__file__).resolve().parents[4] / "docs" / "egov-status-mapping.md"

# The agreed mapping, written out independently of the module.
EXPECTED = {
    S.DRAFT: None,
    S.SUBMITTED: 1,
    S.INELIGIBLE: 3,
    S.UNDER_REVIEW: 4,
    S.CHANGES_REQUESTED: 5,
    S.WITHDRAWN: 7,
    S.REJECTED: 10,
    S.APPROVED: 9,
    S.IN_PROGRESS: 9,
    S.COMPLETED: 9,
    S.VERIFIED: 10,
    S.NOT_ACHIEVED: 10,
}


def test_codes_are_the_national_ones():
    assert {e.value: e.label for e in E} == {
        1: "new",
        2: "received",
        3: "refused at reception",
        4: "processing",
        5: "supplement requested",
        7: "withdrawn",
        8: "processing stopped",
        9: "decided",
        10: "result delivered",
    }


@pytest.mark.parametrize("status", list(S))
def test_every_status_is_mapped(status):
    assert egov_status(status) == EXPECTED[status]
    assert egov_status(status.value) == EXPECTED[status]
    assert MAPPING[status].why.strip()


def test_every_code_is_used_or_explained():
    used = {row.code for row in MAPPING.values() if row.code is not None}
    assert used.isdisjoint(UNUSED)
    assert used | set(UNUSED) == set(E)


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError):
        egov_status("archived")


def generated_block(text: str) -> str:
    match = re.search(r"<!-- BEGIN GENERATED[^>]*-->\n(.*?)<!-- END GENERATED -->", text, re.S)
    assert match, f"{DOC} lost its generated-table markers"
    return match.group(1)


def test_doc_table_matches_the_code():
    assert generated_block(DOC.read_text(encoding="utf-8")) == render_markdown_table(), (
        f"{DOC.name} is out of date: regenerate the table as the document explains"
    )


def test_rendered_table_has_one_row_per_status_with_its_code():
    rows = [line for line in render_markdown_table().splitlines() if line.startswith("| `")]
    parsed = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        parsed[S(cells[0].strip("`"))] = None if cells[1] == "—" else int(cells[1])
    assert parsed == EXPECTED
