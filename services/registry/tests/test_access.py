"""Object-level rules: an enterprise sees only its own records; auditors and reviewers never write."""

from __future__ import annotations

import httpx
from registry_helpers import Actors, create_enterprise, create_facility, enterprise_body, facility_body

from cleanprod_kit.testing.data import random_tax_code


async def test_enterprise_cannot_read_list_or_change_another_enterprise(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    a = await create_enterprise(client, actors)
    b = await create_enterprise(client, actors)
    fac_b = await create_facility(client, actors, b["id"])
    as_a = actors.enterprise(a["tax_code"])

    assert (await client.get(f"/api/v1/enterprises/{a['id']}", headers=as_a)).status_code == 200
    assert (await client.get(f"/api/v1/enterprises/{b['id']}", headers=as_a)).status_code == 404
    assert (await client.get(f"/api/v1/facilities/{fac_b['id']}", headers=as_a)).status_code == 404
    assert (await client.get(f"/api/v1/enterprises/{b['id']}/facilities", headers=as_a)).status_code == 404
    assert (await client.get(f"/api/v1/facilities/{fac_b['id']}/baselines", headers=as_a)).status_code == 404

    listed = (await client.get("/api/v1/enterprises", params={"limit": 200}, headers=as_a)).json()["items"]
    assert [e["id"] for e in listed] == [a["id"]]
    facilities = (await client.get("/api/v1/facilities", params={"enterprise_id": b["id"]}, headers=as_a)).json()
    assert facilities["items"] == []

    patch = await client.patch(
        f"/api/v1/enterprises/{b['id']}", json={"name": "Chiếm quyền"}, headers={**as_a, "If-Match": '"1"'}
    )
    assert patch.status_code == 404
    steal = await client.post(f"/api/v1/enterprises/{b['id']}/facilities", json=facility_body(), headers=as_a)
    assert steal.status_code == 404
    fac_patch = await client.patch(
        f"/api/v1/facilities/{fac_b['id']}", json={"name": "x"}, headers={**as_a, "If-Match": '"1"'}
    )
    assert fac_patch.status_code == 404
    assert (await client.get(f"/api/v1/enterprises/{b['id']}", headers=actors.officer)).json()["name"] != "Chiếm quyền"


async def test_enterprise_registers_only_its_own_tax_code(client: httpx.AsyncClient, actors: Actors) -> None:
    mine = random_tax_code()
    other = await client.post(
        "/api/v1/enterprises", json=enterprise_body(random_tax_code()), headers=actors.enterprise(mine)
    )
    assert other.status_code == 403
    own = await client.post("/api/v1/enterprises", json=enterprise_body(mine), headers=actors.enterprise(mine))
    assert own.status_code == 201
    facility = await client.post(
        f"/api/v1/enterprises/{own.json()['id']}/facilities", json=facility_body(), headers=actors.enterprise(mine)
    )
    assert facility.status_code == 201


async def test_auditor_and_reviewer_read_but_never_write(client: httpx.AsyncClient, actors: Actors) -> None:
    enterprise = await create_enterprise(client, actors)
    for role in ("auditor", "reviewer", "verifier"):
        headers = actors.headers(role)
        assert (await client.get(f"/api/v1/enterprises/{enterprise['id']}", headers=headers)).status_code == 200
        assert (await client.post("/api/v1/enterprises", json=enterprise_body(), headers=headers)).status_code == 403
        patch = await client.patch(
            f"/api/v1/enterprises/{enterprise['id']}", json={"name": "x"}, headers={**headers, "If-Match": '"1"'}
        )
        assert patch.status_code == 403
        sector = await client.post(
            "/api/v1/sectors", json={"code": "x_" + role, "name_vi": "x", "name_en": "x"}, headers=headers
        )
        assert sector.status_code == 403


async def test_only_officers_manage_sectors_and_norms(client: httpx.AsyncClient, actors: Actors) -> None:
    ent = actors.enterprise(random_tax_code())
    body = {"code": "dyeing", "name_vi": "Nhuộm vải", "name_en": "Dyeing", "priority": True}
    assert (await client.post("/api/v1/sectors", json=body, headers=ent)).status_code == 403
    created = await client.post("/api/v1/sectors", json=body, headers=actors.officer)
    assert created.status_code in (201, 409)
    norm = {
        "circular": "99/2099/TT-BCT",
        "sector_code": "dyeing",
        "product": "cotton fabric",
        "unit": "MJ/tonne",
        "value": 1234,
        "valid_from": "2026-01-01",
        "valid_to": "2030-12-31",
    }
    assert (await client.post("/api/v1/norms", json=norm, headers=actors.auditor)).status_code == 403


async def test_tokens_are_required_and_checked(client: httpx.AsyncClient, actors: Actors, issuer) -> None:
    assert (await client.get("/api/v1/sectors")).status_code == 401
    expired = issuer.token("officer", expires_in=-120)
    response = await client.get("/api/v1/sectors", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    wrong_aud = issuer.token("officer", audience="another-api")
    assert (await client.get("/api/v1/sectors", headers={"Authorization": f"Bearer {wrong_aud}"})).status_code == 401
    no_role = issuer.token()
    assert (await client.get("/api/v1/sectors", headers={"Authorization": f"Bearer {no_role}"})).status_code == 403
    enterprise_without_tax_code = issuer.token("enterprise")
    response = await client.get(
        "/api/v1/enterprises", headers={"Authorization": f"Bearer {enterprise_without_tax_code}"}
    )
    assert response.status_code == 403


async def test_enterprise_registers_and_manages_its_branch_units_only(
    client: httpx.AsyncClient, actors: Actors
) -> None:
    """Issue 9: a head office registers its branch units (<own tax code>-NNN) and then reads and manages them
    and their facilities; other tax codes stay refused, and a branch's own account covers only that branch."""
    mine = random_tax_code()
    as_head = actors.enterprise(mine)
    head = await client.post("/api/v1/enterprises", json=enterprise_body(mine), headers=as_head)
    assert head.status_code == 201, head.text
    branch = await client.post(
        "/api/v1/enterprises", json=enterprise_body(f"{mine}-001", name="Chi nhánh Đông Anh"), headers=as_head
    )
    assert branch.status_code == 201, branch.text
    assert branch.json()["tax_code"] == f"{mine}-001"
    compact_branch = await client.post("/api/v1/enterprises", json=enterprise_body(f"{mine}002"), headers=as_head)
    assert compact_branch.status_code == 201 and compact_branch.json()["tax_code"] == f"{mine}-002"
    branch_id = branch.json()["id"]

    # the head office reads, lists and changes its branch, and registers and manages the branch's facilities
    assert (await client.get(f"/api/v1/enterprises/{branch_id}", headers=as_head)).status_code == 200
    listed = (await client.get("/api/v1/enterprises", params={"limit": 200}, headers=as_head)).json()["items"]
    assert sorted(e["tax_code"] for e in listed) == [mine, f"{mine}-001", f"{mine}-002"]
    patched = await client.patch(
        f"/api/v1/enterprises/{branch_id}", json={"name": "Chi nhánh Sóc Sơn"}, headers={**as_head, "If-Match": '"1"'}
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Chi nhánh Sóc Sơn"
    facility = await client.post(f"/api/v1/enterprises/{branch_id}/facilities", json=facility_body(), headers=as_head)
    assert facility.status_code == 201, facility.text
    assert (await client.get(f"/api/v1/facilities/{facility.json()['id']}", headers=as_head)).status_code == 200
    facilities = (
        await client.get("/api/v1/facilities", params={"enterprise_id": branch_id, "limit": 200}, headers=as_head)
    ).json()["items"]
    assert [f["id"] for f in facilities] == [facility.json()["id"]]

    # another enterprise's branch (or the other enterprise itself) stays refused
    other = random_tax_code()
    for code in (f"{other}-001", other):
        refused = await client.post("/api/v1/enterprises", json=enterprise_body(code), headers=as_head)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "tax_code_not_yours"
    assert (
        await client.get("/api/v1/enterprises", params={"tax_code": f"{other}-001"}, headers=actors.officer)
    ).json()["items"] == []
    # strangers do not see the branch; the branch's own account sees only itself (not the head office, not siblings)
    assert (await client.get(f"/api/v1/enterprises/{branch_id}", headers=actors.enterprise(other))).status_code == 404
    as_branch = actors.enterprise(f"{mine}-001")
    assert (await client.get(f"/api/v1/enterprises/{branch_id}", headers=as_branch)).status_code == 200
    assert (await client.get(f"/api/v1/enterprises/{head.json()['id']}", headers=as_branch)).status_code == 404
    sibling = compact_branch.json()["id"]
    assert (await client.get(f"/api/v1/enterprises/{sibling}", headers=as_branch)).status_code == 404
    sibling_code = enterprise_body(f"{mine}-003")
    assert (await client.post("/api/v1/enterprises", json=sibling_code, headers=as_branch)).status_code == 403
    listed = (await client.get("/api/v1/enterprises", params={"limit": 200}, headers=as_branch)).json()["items"]
    assert [e["tax_code"] for e in listed] == [f"{mine}-001"]
