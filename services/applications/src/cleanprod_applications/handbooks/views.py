from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.responses import StreamingResponse

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import SessionDep
from cleanprod_kit.errors import NotFound
from cleanprod_kit.fields import Param
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..deps import BlobStoreDep, SettingsDep
from ..documents.storage import multipart_upload, receive_and_store, stored_file
from . import service
from .schemas import HandbookCreate, HandbookPublic

log = logging.getLogger("cleanprod.applications.handbooks")
router = APIRouter(prefix="/api/v1/handbooks", tags=["handbooks"])
public_router = APIRouter(prefix="/api/v1/public/handbooks", tags=["public"])
officers = [Depends(require_roles(Role.OFFICER))]


@router.post("", status_code=201, response_model=HandbookPublic, dependencies=officers)
async def create_handbook(
    body: HandbookCreate, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """A handbook for a sector, titled in Vietnamese and English; listed publicly once a version is uploaded."""

    async def create() -> Created:
        handbook = await service.create(session, principal, body)
        return Created(201, service.to_public(handbook, []), {"Location": f"/api/v1/handbooks/{handbook.id}"})

    return await create_once(request, session, principal, body, create)


async def _page(
    session: SessionDep, sector: str | None, limit: int, cursor: str | None, *, published_only: bool
) -> Page[HandbookPublic]:
    items, next_cursor = await service.list_handbooks(
        session, sector=sector, published_only=published_only, limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("", response_model=Page[HandbookPublic], dependencies=[Depends(require_roles(*READ_ROLES))])
async def list_all(
    session: SessionDep,
    sector: Param | None = Query(None, max_length=32),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[HandbookPublic]:
    """Every handbook, also those without a file yet (staff)."""
    return await _page(session, sector, limit, cursor, published_only=False)


@router.post(
    "/{handbook_id}/versions",
    status_code=201,
    response_model=HandbookPublic,
    dependencies=officers,
    openapi_extra=multipart_upload(),
    responses={
        404: {"description": "No such handbook"},
        413: {"description": "File above the size limit"},
        415: {"description": "Not a PDF by content"},
    },
)
async def upload_version(
    handbook_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    settings: SettingsDep,
    blobs: BlobStoreDep,
) -> Response:
    """Publish the next version (a PDF, multipart part `file`): type by content, the documents' size limit,
    stored under its SHA-256."""
    if await session.get(service.Handbook, handbook_id) is None:
        raise NotFound(code="handbook_not_found", params={"handbook_id": str(handbook_id)})
    await session.rollback()  # no transaction stays open while the file arrives
    received, file_type, _ = await receive_and_store(
        request,
        blobs=blobs,
        tmp_dir=settings.upload_tmp_dir,
        max_bytes=settings.max_document_bytes,
        check=service.ensure_pdf,
    )

    async def create() -> Created:
        handbook, _ = await service.add_version(session, principal, handbook_id, received, file_type)
        versions = await service.versions_of(session, [handbook.id])
        return Created(
            201,
            service.to_public(handbook, versions[handbook.id]),
            {"Location": f"/api/v1/public/handbooks/{handbook.id}/versions/{handbook.latest_version}"},
        )

    fingerprint = {"handbook_id": handbook_id, "sha256": received.sha256, "filename": received.filename}
    return await create_once(request, session, principal, fingerprint, create)


@public_router.get("", response_model=Page[HandbookPublic])
async def list_public(
    session: SessionDep,
    sector: Param | None = Query(None, max_length=32),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[HandbookPublic]:
    """Published handbooks (at least one version), by sector (anyone, no token)."""
    return await _page(session, sector, limit, cursor, published_only=True)


@public_router.get(
    "/{handbook_id}/versions/{number}",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/pdf": {}}}, 404: {"description": "No such version"}},
)
async def download_version(
    handbook_id: uuid.UUID, session: SessionDep, blobs: BlobStoreDep, number: int = Path(ge=1, le=1_000_000)
) -> StreamingResponse:
    version = await service.get_version(session, handbook_id, number)
    return await stored_file(blobs, version, private=False, log=log, what="handbook")
