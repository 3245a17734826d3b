"""The dossier ZIP for an auditor or officer: everything the Department holds on one application, in one file.

Layout: `manifest.json` (every file with its SHA-256 and size; each document's stored SHA-256 and whether the
bytes match it; what happened to the verification report), `application.json`, `history.json` (every audit
entry, old → new values included), `reviews.json` (submitted reviews and declarations — never drafts),
`decision.json`, `tranches.json`, `messages.json` (the thread, internal messages included), `documents/<nn>-<original name>` (the original bytes) and, when the
verification service has a case, `verification/case.json`, `verification/result.json` and
`verification/report.html`.

The database is read first and its transaction ended; only then is the verification service asked (over HTTP,
with this service's client-credentials token), so no transaction stays open during a remote call. A case that does
not exist, or a verification service that cannot answer, is written into the manifest as a note, not an error:
the auditor still gets the rest.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import IO, Any

import anyio.from_thread
import orjson
from fastapi.encoders import jsonable_encoder
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.concurrency import run_in_threadpool

from cleanprod_kit.auth import Principal
from cleanprod_kit.models import utcnow
from cleanprod_kit.upstream import Upstream, UpstreamUnavailable

from ..access import sees_internal
from ..applications import service as applications
from ..applications.models import Application
from ..documents.blobs import BlobStore, blocking_chunks
from ..documents.models import Document
from ..messages.service import list_messages
from ..reviews.service import assignments_of
from ..reviews.service import to_public as review_public

log = logging.getLogger("cleanprod.applications.dossier")
DECISION_ACTIONS = ("decide_approve", "decide_reject", "request_changes")


@dataclass
class DossierData:
    application: dict[str, Any]
    history: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    documents: list[dict[str, Any]]  # plain values: the session's objects expire when its transaction ends
    messages: list[dict[str, Any]] = field(default_factory=list)  # the thread the caller may see
    verification: dict[str, Any] = field(default_factory=dict)  # case / result / report, or a note


async def collect(session: AsyncSession, principal: Principal, application: Application) -> DossierData:
    public = jsonable_encoder(await applications.public_view(session, principal, application))
    history: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        entries, cursor = await applications.history(session, principal, application, limit=200, cursor=cursor)
        history += jsonable_encoder(entries)
        if not cursor:
            break
    reviews = [jsonable_encoder(review_public(a)) for a in await assignments_of(session, application.id)]
    documents = [
        {
            "document_id": str(d.id),
            "kind": str(d.kind),
            "filename": d.filename,
            "media_type": d.media_type,
            "stored_sha256": d.sha256,
        }
        for d in (await session.exec(_documents_of(principal, application))).all()
    ]  # type: ignore[arg-type]
    messages: list[dict[str, Any]] = []
    cursor = None
    while True:
        page, cursor = await list_messages(session, principal, application, limit=200, cursor=cursor)
        messages += jsonable_encoder(page)
        if not cursor:
            break
    return DossierData(public, history, reviews, documents, messages)


def _documents_of(principal: Principal, application: Application) -> Any:
    statement = select(Document).where(Document.application_id == application.id).order_by(Document.id)
    # Officers and auditors see internal attachments; the rule is the documents list's, whoever asks.
    return statement if sees_internal(principal) else statement.where(Document.internal == False)  # noqa: E712


async def verification_of(upstream: Upstream, application_id: str) -> dict[str, Any]:
    """The verification case, result and report of the application, or `{"note": …}` saying why not."""
    try:
        listing = await upstream.get("/api/v1/verifications", params={"application_id": application_id, "limit": 1})
        items = (
            upstream.json_object(listing, "/api/v1/verifications").get("items") if listing.status_code == 200 else None
        )
        if not items:
            return {
                "status": "no_case",
                "note": "The verification service has no case for this application (not approved yet, or not opened).",
            }
        case = items[0]
        out: dict[str, Any] = {"status": "included", "case": case}
        result = await upstream.get(f"/api/v1/verifications/{case['id']}/result")
        out["result"] = result.json() if result.status_code == 200 else None
        if out["result"] is None:
            out["note"] = "The verification is not concluded yet: no result."
        report = await upstream.get(f"/api/v1/verifications/{case['id']}/report")
        out["report_html"] = report.text if report.status_code == 200 else None
        return out
    except UpstreamUnavailable as exc:
        log.warning("dossier ZIP without the verification report", extra={"application_id": application_id})
        return {"status": "unavailable", "note": f"The verification report could not be fetched: {exc.detail}"}


def _json(data: Any) -> bytes:
    return orjson.dumps(jsonable_encoder(data), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)


def write_zip(data: DossierData, blobs: BlobStore, generated_by: str) -> IO[bytes]:
    """The ZIP in a rewound temporary file, written in a worker thread (documents are copied from the blob store in
    chunks fetched on the event loop, never held in memory)."""
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - closed by the response
    files: list[dict[str, Any]] = []
    application = data.application
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def add(path: str, content: bytes, **extra: Any) -> None:
            archive.writestr(path, content)
            files.append(
                {"path": path, "sha256": hashlib.sha256(content).hexdigest(), "size_bytes": len(content), **extra}
            )

        add("application.json", _json(application))
        add("history.json", _json(data.history))
        add("reviews.json", _json(data.reviews))
        add(
            "decision.json",
            _json(
                {
                    "status": application["status"],
                    "approved_support_vnd": application["approved_support_vnd"],
                    "award_limit": application["award_limit"],
                    "decided_at": application["decided_at"],
                    "decided_by": application["decided_by"],
                    "decision_reason": application["decision_reason"],
                    "review_score_pct": application["review_score_pct"],
                    "review_summary": application.get("review_summary"),
                    "entries": [e for e in data.history if e["action"] in DECISION_ACTIONS],
                }
            ),
        )
        add("tranches.json", _json(application["tranches"]))
        add("messages.json", _json(data.messages))
        for n, document in enumerate(data.documents, start=1):
            path = f"documents/{n:02d}-{document['filename']}"
            sha256 = document["stored_sha256"]
            if not anyio.from_thread.run(blobs.exists, sha256):
                files.append({"path": None, **document, "missing": True})
                log.error("document content missing from storage", extra={"document_id": document["document_id"]})
                continue
            digest, size = hashlib.sha256(), 0
            with archive.open(path, "w") as target:
                for chunk in blocking_chunks(blobs, sha256):
                    digest.update(chunk)
                    size += len(chunk)
                    target.write(chunk)
            files.append(
                {
                    "path": path,
                    "sha256": digest.hexdigest(),
                    "size_bytes": size,
                    **document,
                    "matches_stored": digest.hexdigest() == document["stored_sha256"],
                }
            )
        verification = data.verification
        if verification.get("case") is not None:
            add("verification/case.json", _json(verification["case"]))
        if verification.get("result") is not None:
            add("verification/result.json", _json(verification["result"]))
        if verification.get("report_html"):
            add("verification/report.html", verification["report_html"].encode())
        archive.writestr(
            "manifest.json",
            _json(
                {
                    "application_id": application["id"],
                    "dossier_code": application["dossier_code"],
                    "generated_at": utcnow(),
                    "generated_by": generated_by,
                    "files": files,
                    "verification": {"status": verification.get("status"), "note": verification.get("note")},
                }
            ),
        )
    out.seek(0)
    return out


async def build(
    session: AsyncSession, principal: Principal, application: Application, *, verification: Upstream, blobs: BlobStore
) -> IO[bytes]:
    data = await collect(session, principal, application)
    await session.rollback()  # end the read transaction before the remote call (never hold one across HTTP)
    data.verification = await verification_of(verification, data.application["id"])
    return await run_in_threadpool(write_zip, data, blobs, principal.display_name or principal.subject)


def filename(application: Application) -> str:
    return f"dossier-{application.dossier_code or application.id}.zip"
