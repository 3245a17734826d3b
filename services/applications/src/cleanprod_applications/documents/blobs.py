"""Where the bytes of documents, handbooks and message attachments live: one small interface, two backends
(issue 11; figures and the choice in docs/architecture.md "Document storage").

- `PostgresBlobStore` (`APPLICATIONS_DOCUMENT_STORAGE=postgres`, the default): rows of this service's database,
  `document_blobs` + `document_blob_chunks`, so every replica serves what any replica stored.
- `LocalBlobStore` (`=local`): files `<document_dir>/<aa>/<bb>/<sha256>`, for a single machine.

Both are content-addressed: a blob is named by the SHA-256 of its bytes, `put` recomputes it while the bytes stream
in and refuses bytes that do not match (or exceed the size limit), and storing the same content twice keeps one
copy. Bytes always move in chunks of at most `chunk_bytes`; no backend holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol

import anyio
import anyio.from_thread
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..config import ApplicationsSettings

DEFAULT_CHUNK_BYTES = 1024 * 1024


class BlobMissing(LookupError):
    """No bytes are stored under this SHA-256."""


class BlobTooLarge(ValueError):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"more than {max_bytes} bytes")
        self.max_bytes = max_bytes


class BlobDigestMismatch(ValueError):
    """The bytes streamed to `put` do not hash to the name they were stored under."""


class BlobStore(Protocol):
    kind: str
    chunk_bytes: int

    async def put(self, sha256: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> bool:
        """Store the streamed bytes under `sha256` (checked); False when that content was stored already."""
        ...

    def get(self, sha256: str) -> AsyncIterator[bytes]:
        """The stored bytes in chunks; BlobMissing when there are none."""
        ...

    async def size(self, sha256: str) -> int | None:
        """The stored size, None when nothing is stored under `sha256`."""
        ...

    async def exists(self, sha256: str) -> bool: ...

    async def delete(self, sha256: str) -> None: ...


class _Checked:
    """Hashes and counts the bytes passing through `put`; refuses them past the size limit or on a wrong digest."""

    def __init__(self, sha256: str, max_bytes: int) -> None:
        self.expected = sha256
        self.max_bytes = max_bytes
        self.size = 0
        self._hash = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise BlobTooLarge(self.max_bytes)
        self._hash.update(chunk)

    def verify(self) -> None:
        if self._hash.hexdigest() != self.expected:
            raise BlobDigestMismatch(f"the bytes hash to {self._hash.hexdigest()}, not {self.expected}")


async def file_chunks(path: Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> AsyncIterator[bytes]:
    """A local file in chunks, each read in a worker thread."""
    handle = await anyio.to_thread.run_sync(open, path, "rb")
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, chunk_bytes):
            yield chunk
    finally:
        await anyio.to_thread.run_sync(handle.close)


def blocking_chunks(store: BlobStore, sha256: str) -> Iterator[bytes]:
    """For code in a worker thread started by anyio (the dossier ZIP): the blob's chunks, each fetched on the event
    loop."""
    chunks = store.get(sha256).__aiter__()
    done = object()

    async def step() -> object:
        try:
            return await chunks.__anext__()
        except StopAsyncIteration:
            return done

    while (chunk := anyio.from_thread.run(step)) is not done:
        yield chunk  # type: ignore[misc]


class LocalBlobStore:
    """Files in a folder of this machine (one replica only, or a folder every replica mounts)."""

    kind = "local"

    def __init__(self, directory: Path, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.directory = Path(directory)
        self.chunk_bytes = chunk_bytes

    def path(self, sha256: str) -> Path:
        return self.directory / sha256[:2] / sha256[2:4] / sha256

    async def put(self, sha256: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> bool:
        target = self.path(sha256)
        if await anyio.to_thread.run_sync(target.exists):
            return False
        tmp_dir = self.directory / "tmp"
        await anyio.to_thread.run_sync(lambda: tmp_dir.mkdir(parents=True, exist_ok=True))
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="blob-")
        partial = Path(name)
        checked = _Checked(sha256, max_bytes)
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    checked.update(chunk)
                    await anyio.to_thread.run_sync(out.write, chunk)
            checked.verify()

            def publish() -> None:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(partial, target)

            await anyio.to_thread.run_sync(publish)
        finally:
            partial.unlink(missing_ok=True)  # no-op once published
        return True

    async def get(self, sha256: str) -> AsyncIterator[bytes]:
        try:
            handle = await anyio.to_thread.run_sync(open, self.path(sha256), "rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        try:
            while chunk := await anyio.to_thread.run_sync(handle.read, self.chunk_bytes):
                yield chunk
        finally:
            await anyio.to_thread.run_sync(handle.close)

    async def size(self, sha256: str) -> int | None:
        try:
            stat = await anyio.to_thread.run_sync(os.stat, self.path(sha256))
        except FileNotFoundError:
            return None
        return stat.st_size

    async def exists(self, sha256: str) -> bool:
        return await self.size(sha256) is not None

    async def delete(self, sha256: str) -> None:
        await anyio.to_thread.run_sync(lambda: self.path(sha256).unlink(missing_ok=True))


class PostgresBlobStore:
    """Rows of this service's database: every replica reads what any replica wrote. A blob and all its chunks are
    written in one transaction (a blob row is never visible without its bytes); each chunk is read with its own short
    query, so a slow download does not hold a pooled connection while the client reads."""

    kind = "postgres"

    def __init__(self, engine: AsyncEngine, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> None:
        self.engine = engine
        self.chunk_bytes = chunk_bytes

    async def put(self, sha256: str, chunks: AsyncIterable[bytes], *, max_bytes: int) -> bool:
        checked = _Checked(sha256, max_bytes)
        async with self.engine.begin() as conn:
            # Claims the name; a concurrent put of the same content waits here for this one, then finds it stored.
            claimed = await conn.execute(
                text(
                    "INSERT INTO document_blobs (sha256, size_bytes, chunk_count, created_at) "
                    "VALUES (:sha256, 0, 0, now()) ON CONFLICT (sha256) DO NOTHING RETURNING sha256"
                ),
                {"sha256": sha256},
            )
            if claimed.first() is None:
                return False
            insert = text("INSERT INTO document_blob_chunks (sha256, seq, data) VALUES (:sha256, :seq, :data)")
            seq = 0

            async def write(piece: bytes) -> None:
                nonlocal seq
                await conn.execute(insert, {"sha256": sha256, "seq": seq, "data": piece})
                seq += 1

            pending = bytearray()
            async for chunk in chunks:
                checked.update(chunk)
                if not pending and len(chunk) == self.chunk_bytes:
                    await write(chunk)  # already a whole piece (file_chunks reads them so): no copy
                    continue
                pending += chunk
                while len(pending) >= self.chunk_bytes:
                    with memoryview(pending) as view:
                        piece = bytes(view[: self.chunk_bytes])
                    del pending[: self.chunk_bytes]
                    await write(piece)
            if pending:
                await write(bytes(pending))
            checked.verify()  # raising here rolls the whole blob back
            await conn.execute(
                text("UPDATE document_blobs SET size_bytes = :size, chunk_count = :count WHERE sha256 = :sha256"),
                {"sha256": sha256, "size": checked.size, "count": seq},
            )
        return True

    async def _chunk_count(self, sha256: str) -> int | None:
        async with self.engine.connect() as conn:
            row = await conn.execute(
                text("SELECT chunk_count FROM document_blobs WHERE sha256 = :sha256"), {"sha256": sha256}
            )
            return row.scalar_one_or_none()

    async def get(self, sha256: str) -> AsyncIterator[bytes]:
        count = await self._chunk_count(sha256)
        if count is None:
            raise BlobMissing(sha256)
        query = text("SELECT data FROM document_blob_chunks WHERE sha256 = :sha256 AND seq = :seq")
        for seq in range(count):
            async with self.engine.connect() as conn:
                data = (await conn.execute(query, {"sha256": sha256, "seq": seq})).scalar_one_or_none()
            if data is None:  # deleted while being read
                raise BlobMissing(sha256)
            yield data

    async def size(self, sha256: str) -> int | None:
        async with self.engine.connect() as conn:
            row = await conn.execute(
                text("SELECT size_bytes FROM document_blobs WHERE sha256 = :sha256"), {"sha256": sha256}
            )
            return row.scalar_one_or_none()

    async def exists(self, sha256: str) -> bool:
        return await self.size(sha256) is not None

    async def delete(self, sha256: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text("DELETE FROM document_blobs WHERE sha256 = :sha256"), {"sha256": sha256})


def blob_store(settings: ApplicationsSettings, engine: AsyncEngine) -> BlobStore:
    """The backend `APPLICATIONS_DOCUMENT_STORAGE` names."""
    if settings.document_storage == "postgres":
        return PostgresBlobStore(engine, settings.document_chunk_bytes)
    return LocalBlobStore(settings.document_dir, settings.document_chunk_bytes)
