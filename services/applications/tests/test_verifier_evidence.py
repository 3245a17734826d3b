"""The assigned verifier attaches measurement evidence (issue 14, verifier: "evidence upload"): only that kind,
only to the application they verify, only while it is being carried out or measured."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, assert_problem
from test_documents import PDF, upload
from test_verifier_access import verifier


async def test_the_assigned_verifier_attaches_evidence_and_nothing_else(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.approved()
    subject, as_verifier = verifier(actors)
    # Not assigned yet: the application is not theirs to see, so not theirs to add to.
    assert_problem(
        await upload(client, application, as_verifier, "chi-so-cong-to.pdf", PDF, kind="measurement_evidence"), 404
    )
    assert (await world.assign_verifier(application, subject)).status_code == 200

    added = await upload(
        client, application, as_verifier, "Chỉ số công tơ tháng 01.pdf", PDF, kind="measurement_evidence"
    )
    assert added.status_code == 201, added.text
    document = added.json()
    assert (document["kind"], document["filename"]) == ("measurement_evidence", "Chỉ số công tơ tháng 01.pdf")
    listed = await client.get(f"/api/v1/applications/{application['id']}/documents", headers=world.owner(application))
    assert document["id"] in {d["id"] for d in listed.json()["items"]}  # the enterprise sees what was cited

    assert_problem(
        await upload(client, application, as_verifier, "hop-dong.pdf", PDF, kind="contract"), 403, "forbidden"
    )
    refused = await upload(client, application, as_verifier, "khac.pdf", PDF)  # no kind: "other"
    assert refused.status_code == 403 and refused.json()["code"] == "verifier_attaches_evidence_only"


async def test_a_verified_project_takes_no_more_evidence_with_the_same_answer_as_the_dossier(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.at("verified")
    subject, as_verifier = verifier(actors)
    assert (await world.assign_verifier(application, subject)).status_code == 200
    refused = await upload(client, application, as_verifier, "muon.pdf", PDF, kind="measurement_evidence")
    assert_problem(refused, 409, "not-accepting-documents")
    assert refused.json()["code"] == "not_accepting_documents"
