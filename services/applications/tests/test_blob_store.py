"""Document storage (documents/blobs.py): both backends keep the same promises — content-addressed, SHA-256 checked,
size-limited, streamed in chunks — and with PostgreSQL a second app instance serves what the first stored."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tracemalloc
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from applications_helpers import Actors, World, assert_problem, service_tokens
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_applications.documents.blob_copy import copy_local
from cleanprod_applications.documents.blobs import (
    BlobDigestMismatch,
    BlobMissing,
    BlobStore,
    BlobTooLarge,
    LocalBlobStore,
    PostgresBlobStore,
    file_chunks,
)
from cleanprod_applications.main import create_app
from cleanprod_kit.testing.fixtures import running
from cleanprod_kit.testing.inprocess import in_process_client
from cleanprod_kit.testing.issuer import TestIssuer

CHUNK = 64 * 1024
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


async def upload(
    client: httpx.AsyncClient, application: dict, headers: dict[str, str], name: str, content: bytes
) -> httpx.Response:
    return await client.post(
        f"/api/v1/applications/{application['id']}/documents",
        files={"file": (name, content, "application/pdf")},
        headers=headers,
    )


@pytest.fixture
async def engine(applications_db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(applications_db_url)
    yield engine
    await engine.dispose()


@pytest.fixture(params=["postgres", "local"])
def store(request: pytest.FixtureRequest, engine: AsyncEngine, tmp_path: Path) -> BlobStore:
    if request.param == "postgres":
        return PostgresBlobStore(engine, CHUNK)
    return LocalBlobStore(tmp_path / "blobs", CHUNK)


async def pieces(data: bytes, size: int = 10_000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def read_all(store: BlobStore, sha256: str) -> tuple[bytes, list[int]]:
    sizes, parts = [], []
    async for chunk in store.get(sha256):
        sizes.append(len(chunk))
        parts.append(chunk)
    return b"".join(parts), sizes


async def test_round_trip_in_chunks_stored_once_and_deleted(store: BlobStore) -> None:
    data = os.urandom(3 * CHUNK + 123)  # more than the chunk size: several pieces each way
    sha = hashlib.sha256(data).hexdigest()
    assert not await store.exists(sha) and await store.size(sha) is None
    assert await store.put(sha, pieces(data), max_bytes=len(data)) is True
    assert await store.exists(sha) and await store.size(sha) == len(data)
    back, sizes = await read_all(store, sha)
    assert hashlib.sha256(back).hexdigest() == sha and back == data
    assert sizes == [CHUNK, CHUNK, CHUNK, 123]
    assert await store.put(sha, pieces(data), max_bytes=len(data)) is False  # same content: kept once
    await store.delete(sha)
    assert not await store.exists(sha)
    with pytest.raises(BlobMissing):
        await read_all(store, sha)


async def test_wrong_digest_and_too_large_store_nothing(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK)
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(BlobDigestMismatch):
        await store.put(wrong, pieces(data), max_bytes=len(data))
    assert not await store.exists(wrong)
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(BlobTooLarge):
        await store.put(sha, pieces(data), max_bytes=len(data) - 1)
    assert not await store.exists(sha)
    if isinstance(store, LocalBlobStore):  # no partial file left behind
        assert list((store.directory / "tmp").iterdir()) == []


async def test_postgres_keeps_a_blob_as_rows_of_at_most_the_chunk_size(engine: AsyncEngine) -> None:
    store = PostgresBlobStore(engine, CHUNK)
    data = os.urandom(5 * CHUNK + 1)
    sha = hashlib.sha256(data).hexdigest()
    await store.put(sha, pieces(data, 7_777), max_bytes=len(data))  # pieces arrive in another size
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT seq, length(data) FROM document_blob_chunks WHERE sha256 = :s ORDER BY seq"), {"s": sha}
        )
        assert [tuple(r) for r in rows] == [(0, CHUNK), (1, CHUNK), (2, CHUNK), (3, CHUNK), (4, CHUNK), (5, 1)]
        count = await conn.execute(
            text("SELECT chunk_count, size_bytes FROM document_blobs WHERE sha256 = :s"), {"s": sha}
        )
        assert tuple(count.one()) == (6, len(data))
    await store.delete(sha)
    async with engine.connect() as conn:  # the chunks go with their blob
        left = await conn.execute(text("SELECT count(*) FROM document_blob_chunks WHERE sha256 = :s"), {"s": sha})
        assert left.scalar_one() == 0


async def test_a_20_mib_file_moves_with_memory_of_a_few_chunks(engine: AsyncEngine, tmp_path: Path) -> None:
    """Streaming, shown: storing and reading 20 MiB allocates a few 1 MiB chunks at a time (about 3 MiB measured),
    never the file."""
    chunk = 1024 * 1024
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(20):
            block = os.urandom(chunk)
            digest.update(block)
            out.write(block)
    sha = digest.hexdigest()
    store = PostgresBlobStore(engine, chunk)
    await store.size(sha)  # the pool's first connection opened before measuring
    tracemalloc.start()
    try:
        await store.put(sha, file_chunks(source, chunk), max_bytes=20 * chunk)
        _, put_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        back, count = hashlib.sha256(), 0
        async for piece in store.get(sha):
            back.update(piece)
            count += 1
        _, get_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    await store.delete(sha)
    assert back.hexdigest() == sha and count == 20
    assert put_peak < 5 * chunk, f"storing 20 MiB peaked at {put_peak / chunk:.1f} MiB"
    assert get_peak < 5 * chunk, f"reading 20 MiB peaked at {get_peak / chunk:.1f} MiB"


@pytest.fixture
async def second_instance(
    settings: ApplicationsSettings, registry: tuple[FastAPI, httpx.AsyncClient], issuer: TestIssuer, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """Another replica of the service: same database, its own (empty) scratch folder."""
    other = settings.model_copy(update={"document_dir": tmp_path / "replica-2"})
    app = create_app(other, service_client=in_process_client(service_tokens(issuer), registry[0]))
    async with running(app) as http:
        yield http


async def test_a_document_stored_by_one_instance_downloads_from_another(
    client: httpx.AsyncClient,
    second_instance: httpx.AsyncClient,
    world: World,
    actors: Actors,
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
    settings: ApplicationsSettings,
) -> None:
    draft = await world.draft()
    content = PDF + os.urandom(200_000)  # several chunks
    created = await upload(client, draft, world.owner(draft), "Báo cáo kiểm toán năng lượng.pdf", content)
    assert created.status_code == 201, created.text
    document = created.json()
    downloaded = await second_instance.get(document["download_url"], headers=world.owner(draft))
    assert downloaded.status_code == 200
    sha = hashlib.sha256(downloaded.content).hexdigest()
    assert sha == hashlib.sha256(content).hexdigest() == document["sha256"]
    assert downloaded.headers["etag"] == f'"{sha}"'
    async with app_and_client[0].state.db.engine.connect() as conn:  # stored in pieces of the configured size
        rows = await conn.execute(
            text("SELECT length(data) FROM document_blob_chunks WHERE sha256 = :s ORDER BY seq"), {"s": sha}
        )
        sizes = [size for (size,) in rows]
    piece = settings.document_chunk_bytes
    assert sizes == [piece] * (len(content) // piece) + [len(content) % piece]
    assert_problem(await second_instance.get(document["download_url"], headers=actors.reviewer()), 404)  # not theirs


async def test_local_folders_are_not_shared_between_instances(
    settings: ApplicationsSettings,
    registry: tuple[FastAPI, httpx.AsyncClient],
    issuer: TestIssuer,
    world: World,
    tmp_path: Path,
) -> None:
    """What the shared backend fixes: with `local` storage a second machine cannot serve the first's file."""

    def replica(name: str) -> FastAPI:
        local = settings.model_copy(update={"document_storage": "local", "document_dir": tmp_path / name})
        return create_app(local, service_client=in_process_client(service_tokens(issuer), registry[0]))

    async with running(replica("one")) as first, running(replica("two")) as second:
        draft = await world.draft()
        created = await upload(first, draft, world.owner(draft), "a.pdf", PDF + b"% local only")
        assert created.status_code == 201, created.text
        url = created.json()["download_url"]
        assert (await first.get(url, headers=world.owner(draft))).content == PDF + b"% local only"
        assert_problem(await second.get(url, headers=world.owner(draft)), 404, "content-missing")


async def test_dossier_zip_copies_pieces_from_the_store_and_flags_missing_bytes(
    client: httpx.AsyncClient, world: World, actors: Actors, app_and_client: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    approved = await world.approved()
    kept = PDF + os.urandom(300_000)  # five pieces of 64 KiB in the test settings
    gone = PDF + b"% removed from the store " + os.urandom(64)
    for name, content in (("Giữ lại.pdf", kept), ("Mất.pdf", gone)):
        assert (await upload(client, approved, world.owner(approved), name, content)).status_code == 201
    await app_and_client[0].state.blob_store.delete(hashlib.sha256(gone).hexdigest())
    response = await client.get(f"/api/v1/applications/{approved['id']}/dossier.zip", headers=actors.auditor)
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    entries = {e["filename"]: e for e in json.loads(archive.read("manifest.json"))["files"] if e.get("document_id")}
    assert archive.read(entries["Giữ lại.pdf"]["path"]) == kept and entries["Giữ lại.pdf"]["matches_stored"] is True
    assert entries["Mất.pdf"]["missing"] is True and entries["Mất.pdf"]["path"] is None


async def test_a_local_folder_is_copied_into_postgres_and_a_corrupted_file_refused(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    local = LocalBlobStore(tmp_path / "documents", CHUNK)
    contents = [os.urandom(CHUNK * 2 + 5), os.urandom(100)]
    for content in contents:
        await local.put(hashlib.sha256(content).hexdigest(), pieces(content), max_bytes=len(content))
    damaged = os.urandom(50)
    damaged_sha = hashlib.sha256(damaged).hexdigest()
    await local.put(damaged_sha, pieces(damaged), max_bytes=len(damaged))
    local.path(damaged_sha).write_bytes(b"not what was stored")
    (local.directory / "tmp" / "blob-leftover").write_bytes(b"an unfinished upload")  # not a blob
    target = PostgresBlobStore(engine, CHUNK)
    report = await copy_local(local, target, max_bytes=10 * CHUNK)
    assert (report.copied, report.already_there, report.refused) == (2, 0, [damaged_sha])
    for content in contents:
        sha = hashlib.sha256(content).hexdigest()
        assert (await read_all(target, sha))[0] == content
    await target.delete(hashlib.sha256(contents[1]).hexdigest())
    again = await copy_local(local, target, max_bytes=10 * CHUNK)  # run again: only what is missing
    assert (again.copied, again.already_there) == (1, 1)
    assert not await target.exists(damaged_sha)
    for content in contents:
        await target.delete(hashlib.sha256(content).hexdigest())
