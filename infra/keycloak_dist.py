"""The Keycloak server distribution: fetched once, checked against a pinned SHA-256, unpacked once into a cache
outside the repository ($CLEANPROD_CACHE, default ~/.cache/cleanprod). Instances run from that one copy
(infra/keycloak_server.py)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger("infra.keycloak")

KEYCLOAK_VERSION = "26.5.6"
# SHA-256 of keycloak-quarkus-dist-26.5.6.zip from Maven Central (its published SHA-1 is
# 756c15bb71be020dd4a43a6fdb3c1340cb84d4b5; Maven checks that one itself while downloading).
KEYCLOAK_DIST_SHA256 = "490189d9dff05272432d51f71a069462eeca97f2920a694d539a1e6c26a5a347"
MAVEN_COORDINATES = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
MAVEN_CENTRAL_URL = (
    "https://repo1.maven.org/maven2/org/keycloak/keycloak-quarkus-dist/"
    f"{KEYCLOAK_VERSION}/keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
)


def cache_dir() -> Path:
    return Path(os.environ.get("CLEANPROD_CACHE") or Path.home() / ".cache" / "cleanprod").expanduser()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - compared with Maven's published SHA-1, not used for security alone
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock across processes (a dev stack and a test run may start at the same time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as fh:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _download(zip_path: Path) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    mvn = shutil.which("mvn")
    if mvn:
        log.info("fetching %s with Maven into %s", MAVEN_COORDINATES, zip_path.parent)
        result = subprocess.run(
            [
                mvn,
                "-B",
                "-q",
                "dependency:copy",
                f"-Dartifact={MAVEN_COORDINATES}",
                f"-DoutputDirectory={zip_path.parent}",
            ],
            capture_output=True,
            text=True,
            cwd=zip_path.parent,
        )
        if result.returncode == 0 and zip_path.exists():
            return
        log.warning("Maven could not fetch %s:\n%s", MAVEN_COORDINATES, (result.stdout + result.stderr)[-2000:])
    # No Maven (or it failed): the same file straight from Maven Central; the pinned SHA-256 is checked after.
    log.info("downloading %s", MAVEN_CENTRAL_URL)
    part = zip_path.with_suffix(".zip.part")
    with urllib.request.urlopen(MAVEN_CENTRAL_URL, timeout=60) as response, part.open("wb") as out:  # noqa: S310
        shutil.copyfileobj(response, out, 1 << 20)
    part.replace(zip_path)


def _verify_zip(zip_path: Path) -> None:
    actual = _sha256(zip_path)
    if actual != KEYCLOAK_DIST_SHA256:
        raise RuntimeError(
            f"{zip_path} has SHA-256 {actual}, expected {KEYCLOAK_DIST_SHA256} (pinned for Keycloak "
            f"{KEYCLOAK_VERSION}); delete it and retry"
        )
    # Second opinion: the .sha1 Maven stored next to the artifact in the local repository, when there is one.
    m2_sha1 = (
        Path.home()
        / ".m2"
        / "repository"
        / "org"
        / "keycloak"
        / "keycloak-quarkus-dist"
        / KEYCLOAK_VERSION
        / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip.sha1"
    )
    if m2_sha1.exists():
        words = m2_sha1.read_text().split()
        expected = words[0].lower() if words else ""
        if expected and _sha1(zip_path) != expected:
            raise RuntimeError(f"{zip_path} does not match the SHA-1 Maven recorded in {m2_sha1}")


def _unpack(zip_path: Path, target: Path) -> None:
    """Unzip into a temporary sibling and rename into place, keeping the Unix permission bits (bin/kc.sh)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".unpack-{target.name}-", dir=target.parent))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for info in archive.infolist():
                extracted = Path(archive.extract(info, tmp))
                mode = (info.external_attr >> 16) & 0o777
                if mode and not info.is_dir():
                    extracted.chmod(mode)
        roots = [p for p in tmp.iterdir() if p.is_dir()]
        if len(roots) != 1 or not (roots[0] / "bin" / "kc.sh").exists():
            raise RuntimeError(f"unexpected layout in {zip_path}")
        kc = roots[0] / "bin" / "kc.sh"
        kc.chmod(kc.stat().st_mode | 0o755)
        (roots[0] / ".cleanprod-dist").write_text(KEYCLOAK_DIST_SHA256 + "\n")
        roots[0].rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_distribution(cache: Path | None = None) -> Path:
    """Return the unpacked Keycloak home (<cache>/keycloak-<version>), fetching and unpacking it the first time."""
    cache = (cache or cache_dir()).resolve()
    home = cache / f"keycloak-{KEYCLOAK_VERSION}"
    marker = home / ".cleanprod-dist"
    if marker.exists() and marker.read_text().strip() == KEYCLOAK_DIST_SHA256:
        return home
    with file_lock(cache / f"keycloak-{KEYCLOAK_VERSION}.lock"):
        if marker.exists() and marker.read_text().strip() == KEYCLOAK_DIST_SHA256:
            return home
        zip_path = cache / "downloads" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"
        if not zip_path.exists() or _sha256(zip_path) != KEYCLOAK_DIST_SHA256:
            _download(zip_path)
        _verify_zip(zip_path)
        if home.exists():  # a half-made folder from an interrupted run
            shutil.rmtree(home)
        _unpack(zip_path, home)
    return home
