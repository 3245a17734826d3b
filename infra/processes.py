"""Starting and stopping the project's server processes on loopback — one copy for the devstack and the
benchmarks: uvicorn command lines (free ports: ports.py), readiness polling, process-group shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from .ports import HOST


def uvicorn_command(app: str, port: int, *extra: str, factory: bool = True) -> list[str]:
    """One worker with uvloop + httptools, no access log: how every service runs here."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        *(["--factory"] if factory else []),
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--no-access-log",
        *extra,
    ]


def spawn(
    command: list[str], *, env: Mapping[str, str], log_file: Path, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` in its own process group (so stopping it stops its children too), output to `log_file`."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_file, "ab")  # noqa: SIM115 - the child owns it
    return subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )


def wait_http(url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 60.0) -> None:
    """Poll `url` until it answers 200; fail early if `process` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready after {timeout:.0f}s")


def stop(process: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL if it does not exit in time."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def cpu_times(pid: int | str, *, reaped: bool = False) -> tuple[float, float]:
    """(user + system, system) CPU seconds of a process (Linux /proc) — or, with `reaped`, of the children it has
    waited for; raises OSError when it is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    first = 13 if reaped else 11
    user, system = int(fields[first]) / os.sysconf("SC_CLK_TCK"), int(fields[first + 1]) / os.sysconf("SC_CLK_TCK")
    return user + system, system


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), for benchmarks that show where the cores went."""
    try:
        return cpu_times(pid)[0]
    except (OSError, IndexError, ValueError):
        return 0.0


# ---- records of started processes (so `./cleanprod down`, another command, can stop what `up` started) ---------


def start_ticks(pid: int) -> int | None:
    """When the process started (clock ticks since boot, Linux /proc), or None if it is gone or a zombie. Stored
    with each pid, so a pid the system has since given to another program is never signalled."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] in ("Z", "X"):  # exited, not yet reaped: nothing left to stop
        return None
    return int(fields[19])


def is_same_process(pid: int, ticks: int | None) -> bool:
    return pid > 1 and ticks is not None and start_ticks(pid) == ticks


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group `pgid`."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def stop_group(pgid: int, timeout: float = 10.0) -> None:
    """SIGTERM every process of group `pgid`, SIGKILL what is left after `timeout`; returns when none is left."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while group_members(pgid):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
        else:
            return


def record(pid: int) -> dict[str, int | None]:
    return {"pid": pid, "start_ticks": start_ticks(pid)}
