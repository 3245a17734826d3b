from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.audit import record_audit
from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.errors import NotFound, UnsupportedMediaType
from cleanprod_kit.pagination import keyset_page

from ..db_types import touch
from ..documents.storage import PDF, FileType, ReceivedFile, stored_fields
from .models import Handbook, HandbookVersion  # noqa: F401 - Handbook is used by views
from .schemas import HandbookCreate, HandbookPublic, HandbookVersionPublic

ENTITY = "handbook"


def to_public(handbook: Handbook, versions: list[HandbookVersion]) -> HandbookPublic:
    return public_from(
        HandbookPublic,
        handbook,
        versions=[
            public_from(
                HandbookVersionPublic, v, download_url=f"/api/v1/public/handbooks/{handbook.id}/versions/{v.number}"
            )
            for v in sorted(versions, key=lambda v: -v.number)
        ],
    )


async def create(session: AsyncSession, principal: Principal, body: HandbookCreate) -> Handbook:
    handbook = Handbook(
        sector_code=body.sector_code, title_vi=body.title_vi, title_en=body.title_en, created_by=principal.subject
    )
    session.add(handbook)
    await session.flush()
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=handbook.id,
        action="create",
        details={"sector_code": handbook.sector_code, "title_vi": handbook.title_vi, "title_en": handbook.title_en},
    )
    return handbook


def ensure_pdf(received: ReceivedFile, file_type: FileType) -> None:
    """Handbooks are published as PDF (printable, the same on every device); other allowed types are refused."""
    if file_type is not PDF:
        raise UnsupportedMediaType(
            code="handbook_not_pdf", params={"filename": received.filename}, detected=file_type.media_type
        )


async def add_version(
    session: AsyncSession, principal: Principal, handbook_id: uuid.UUID, received: ReceivedFile, file_type: FileType
) -> tuple[Handbook, HandbookVersion]:
    handbook = await get_for_update(session, Handbook, handbook_id, what="handbook")
    handbook.latest_version += 1
    version = HandbookVersion(
        handbook_id=handbook.id,
        number=handbook.latest_version,
        **stored_fields(received, file_type, principal),
    )
    session.add(version)
    touch(handbook)
    record_audit(
        session,
        principal,
        entity_type=ENTITY,
        entity_id=handbook.id,
        action="publish_version",
        details={
            "number": version.number,
            "sha256": version.sha256,
            "filename": version.filename,
            "size_bytes": version.size_bytes,
        },
        changes=[{"field": "latest_version", "old": version.number - 1, "new": version.number}],
    )
    return handbook, version


async def versions_of(session: AsyncSession, handbook_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[HandbookVersion]]:
    out: dict[uuid.UUID, list[HandbookVersion]] = {i: [] for i in handbook_ids}
    if handbook_ids:
        rows = await session.exec(select(HandbookVersion).where(HandbookVersion.handbook_id.in_(handbook_ids)))  # type: ignore[attr-defined]
        for v in rows.all():
            out[v.handbook_id].append(v)
    return out


async def list_handbooks(
    session: AsyncSession, *, sector: str | None, published_only: bool, limit: int, cursor: str | None
) -> tuple[list[HandbookPublic], str | None]:
    statement = select(Handbook)
    if sector:
        statement = statement.where(Handbook.sector_code == sector)
    if published_only:
        statement = statement.where(Handbook.latest_version > 0)
    rows, next_cursor = await keyset_page(
        session,
        statement,
        order_by=[Handbook.sector_code, Handbook.id],  # type: ignore[list-item]
        key=lambda h: [h.sector_code, h.id],
        limit=limit,
        cursor=cursor,
    )
    versions = await versions_of(session, [h.id for h in rows])
    return [to_public(h, versions[h.id]) for h in rows], next_cursor


async def get_version(session: AsyncSession, handbook_id: uuid.UUID, number: int) -> HandbookVersion:
    version = (
        await session.exec(
            select(HandbookVersion).where(HandbookVersion.handbook_id == handbook_id, HandbookVersion.number == number)
        )
    ).first()
    if version is None:
        raise NotFound(code="handbook_not_found", params={"handbook_id": str(handbook_id)})
    return version
