"""The officer's applications list filtered by where the facility is (issue 14: filters "… ward/district …" kept in
the URL): accents optional, the chosen place shown back in its field, the exports filtered alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import Api
from portal_helpers import PortalUser

from infra.devstack import Stack


@pytest.fixture(scope="module")
def officer(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), "officer1", home="/staff")
    yield user
    user.close()


def test_the_list_is_filtered_by_ward_and_district_without_accents(
    officer: PortalUser, gateway: Any, tokens: Any, stack: Stack
) -> None:
    api = Api(gateway, tokens, stack)
    call = api.call(title="Đợt hỗ trợ – lọc theo địa bàn (kiểm thử)")
    application = api.submitted(call)  # ent-hanoisteel's works in Xã Nội Bài, Huyện Sóc Sơn (demo data)
    assert (application["ward"], application["district"]) == ("Xã Nội Bài", "Huyện Sóc Sơn")

    page = officer.get(f"/officer/applications?call_id={call['id']}&ward=xa+noi+bai")
    assert page.status_code == 200
    assert re.findall(r'<tr id="row-([0-9a-f-]{36})"', page.text) == [application["id"]]
    assert 'name="ward" type="text" value="xa noi bai"' in page.text, "the filter is shown as chosen"
    assert "Phường hoặc xã" in page.text and "Quận, huyện" in page.text
    csv_link = re.search(r'href="([^"]+)" id="export-csv"', page.text)[1].replace("&amp;", "&")
    assert "ward=xa+noi+bai" in csv_link
    exported = officer.client.get(csv_link)
    assert exported.status_code == 200 and application["dossier_code"] in exported.content.decode("utf-8-sig")

    by_district = officer.get(f"/officer/applications?call_id={call['id']}&district=HUYỆN+SÓC+SƠN")
    assert re.findall(r'<tr id="row-([0-9a-f-]{36})"', by_district.text) == [application["id"]]
    elsewhere = officer.get(f"/officer/applications?call_id={call['id']}&ward=Phường+Tây+Hồ")
    assert elsewhere.status_code == 200 and re.findall(r'<tr id="row-', elsewhere.text) == []
