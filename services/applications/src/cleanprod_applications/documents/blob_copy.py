"""Moving a site from `local` to `postgres` document storage: every file of a local document folder is put into the
database store under its name (its SHA-256, checked again while it streams; a file whose bytes no longer match its
name is reported and left out). Safe to run again, and from several replicas at once: content already stored is
skipped.

    .venv/bin/python -m cleanprod_applications.documents.blob_copy      # APPLICATIONS_* settings as the service's
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .blobs import BlobDigestMismatch, BlobStore, BlobTooLarge, LocalBlobStore, file_chunks

SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class CopyReport:
    copied: int = 0
    already_there: int = 0
    refused: list[str] = field(default_factory=list)  # names whose bytes do not hash to the name (or too large)


def local_blobs(directory: Path) -> list[Path]:
    """The blob files of a local store (`<aa>/<bb>/<sha256>`), not its scratch folder."""
    return sorted(
        path
        for path in directory.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/*")
        if path.is_file() and SHA256_NAME.match(path.name) and path.parent.parent.name == path.name[:2]
    )


async def copy_local(source: LocalBlobStore, target: BlobStore, *, max_bytes: int) -> CopyReport:
    report = CopyReport()
    for path in local_blobs(source.directory):
        try:
            stored = await target.put(path.name, file_chunks(path, target.chunk_bytes), max_bytes=max_bytes)
        except (BlobDigestMismatch, BlobTooLarge):
            report.refused.append(path.name)
            continue
        if stored:
            report.copied += 1
        else:
            report.already_there += 1
    return report


async def _main() -> int:
    from cleanprod_kit.db import Database

    from ..config import ApplicationsSettings
    from .blobs import PostgresBlobStore

    settings = ApplicationsSettings()
    database = Database(settings.database_url, pool_size=2, max_overflow=0)
    try:
        report = await copy_local(
            LocalBlobStore(settings.document_dir),
            PostgresBlobStore(database.engine, settings.document_chunk_bytes),
            max_bytes=settings.max_document_bytes,
        )
    finally:
        await database.dispose()
    print(
        f"{settings.document_dir}: {report.copied} copied into the database, {report.already_there} already there, "
        f"{len(report.refused)} refused (bytes do not match the name, or above the size limit)"
    )
    for name in report.refused:
        print(f"  refused: {name}", file=sys.stderr)
    return 1 if report.refused else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))
