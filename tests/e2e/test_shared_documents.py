"""A document uploaded through the gateway (to the stack's applications service) downloads from a second applications
process — same database, its own empty document folder — with the same SHA-256: the bytes live in PostgreSQL
(APPLICATIONS_DOCUMENT_STORAGE=postgres, the default; issue 11)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import httpx
import pytest
from e2e_helpers import HANOISTEEL, Api

from infra.devstack import REPO_ROOT, SERVICES, Stack
from infra.ports import HOST, free_port
from infra.processes import spawn, stop, uvicorn_command, wait_http


@pytest.fixture
def second_applications(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    spec = next(s for s in SERVICES if s.name == "applications")
    env = {
        **stack.service_env(spec),
        **stack.extra_env,
        "APPLICATIONS_DOCUMENT_DIR": str(tmp_path_factory.mktemp("replica-2-documents")),
        # Serves requests only: the stack's own replica runs the outbox, webhooks, reminders and mail.
        "APPLICATIONS_OUTBOX_ENABLED": "false",
        "APPLICATIONS_NOTIFICATION_SCHEDULER_ENABLED": "false",
        "APPLICATIONS_SMTP_HOST": "",
    }
    port = free_port()
    process = spawn(
        uvicorn_command("cleanprod_applications.main:create_app", port),
        env=env,
        log_file=stack.log_dir / "applications-replica-2.log",
        cwd=REPO_ROOT,
    )
    try:
        wait_http(f"http://{HOST}:{port}/readyz", process, timeout=60)
        yield f"http://{HOST}:{port}"
    finally:
        stop(process)


def test_a_20_mib_document_downloads_from_the_other_replica_with_the_same_sha256(
    api: Api, second_applications: str
) -> None:
    draft = api.draft(api.call())
    content = b"%PDF-1.7\n" + os.urandom(20 * 1024 * 1024 - 9)  # exactly the 20 MiB limit
    uploaded = api.client.post(
        f"/api/v1/applications/{draft['id']}/documents",
        files={"file": ("Báo cáo kiểm toán năng lượng.pdf", content, "application/pdf")},
        headers=api.h(HANOISTEEL),
    )
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    digest = hashlib.sha256()
    with (
        httpx.Client(base_url=second_applications, timeout=60) as replica,
        replica.stream("GET", document["download_url"], headers=api.h(HANOISTEEL)) as download,
    ):
        assert download.status_code == 200
        for chunk in download.iter_bytes():
            digest.update(chunk)
        assert download.headers["etag"] == f'"{document["sha256"]}"'
    assert digest.hexdigest() == hashlib.sha256(content).hexdigest() == document["sha256"]
