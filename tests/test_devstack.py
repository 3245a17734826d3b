"""Issue 9, fault 10: `./cleanprod down` stops everything `up` started (services and gateway too, not only
PostgreSQL and Keycloak), and the usage lists every command. Real processes, no Keycloak or PostgreSQL needed:
`up` is played by a small Python process that uses the very Stack code `./cleanprod up` runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from infra import devstack
from infra.devstack import PROCESS_FILE, Ports, Stack, stop_recorded
from infra.processes import group_members, spawn, start_ticks, wait_http

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"]])
def test_usage_lists_every_command(args: list[str]) -> None:
    result = subprocess.run([str(ROOT / "cleanprod"), *args], capture_output=True, text=True, timeout=30)
    assert result.returncode == (2 if not args else 0)
    text = result.stdout + result.stderr
    for command in ("up", "down", "test", "backup", "restore"):
        assert f"./cleanprod {command} " in text, text


def _gone(pid: int) -> bool:
    return start_ticks(pid) is None


def _wait(predicate, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _fake_up(data_dir: Path, gateway_port: int) -> subprocess.Popen[bytes]:
    """A process that does what `./cleanprod up` does with its services: Stack(supervised=True) spawns the
    gateway, then waits for a signal and stops the stack (infrastructure is not part of this test)."""
    script = textwrap.dedent(f"""
        import signal, sys
        from pathlib import Path
        from infra.devstack import Ports, Stack, _interrupt
        stack = Stack(Path({str(data_dir)!r}), Ports(gateway={gateway_port}), supervised=True)
        stack.start_gateway()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _interrupt)
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            stack.stop(keep_infrastructure=True)
    """)
    return subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, start_new_session=True)


def _recorded(data_dir: Path) -> dict:
    return json.loads((data_dir / PROCESS_FILE).read_text())


def test_down_asks_up_to_stop_and_everything_it_started_goes(tmp_path: Path) -> None:
    port = Ports.free().gateway
    up = _fake_up(tmp_path, port)
    try:
        _wait(lambda: (tmp_path / PROCESS_FILE).exists())
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        state = _recorded(tmp_path)
        assert state["supervisor"]["pid"] == up.pid
        gateway_pid = state["processes"]["gateway"]["pid"]
        assert devstack.main(["down", "--data", str(tmp_path)]) == 0
        assert up.wait(timeout=30) == 0  # it stopped on its own, after stopping its processes
        assert _gone(gateway_pid) and not group_members(gateway_pid)
        assert not (tmp_path / PROCESS_FILE).exists()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()


def test_down_stops_the_recorded_process_groups_when_up_is_gone(tmp_path: Path) -> None:
    """`up` killed with SIGKILL left its services running: down stops each recorded group, children too."""
    stack = Stack(tmp_path, Ports.free())
    stack.start_gateway()
    # A service whose process has a child of its own (uvicorn --reload, a worker, ...): same process group.
    stack.processes["registry"] = spawn(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
            "'import time; time.sleep(600)']); time.sleep(600)",
        ],
        env={},
        log_file=tmp_path / "logs" / "r.log",
    )
    stack._record_processes()
    started = list(stack.processes.values())
    try:
        wait_http(f"{stack.url('gateway')}/healthz", stack.processes["gateway"], timeout=60)
        _wait(lambda: len(group_members(stack.processes["registry"].pid)) == 2)
        pids = {p.pid: group_members(p.pid) for p in started}
        assert stop_recorded(tmp_path) == ["gateway", "registry"]
        for leader, members in pids.items():
            assert not group_members(leader)
            assert all(_gone(pid) for pid in members)
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_a_reused_pid_is_never_signalled(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        (tmp_path / PROCESS_FILE).write_text(
            json.dumps(
                {
                    "supervisor": None,
                    "processes": {
                        "registry": {"pid": bystander.pid, "start_ticks": (start_ticks(bystander.pid) or 0) - 1}
                    },
                }
            )
        )
        assert stop_recorded(tmp_path) == []
        time.sleep(0.2)
        assert bystander.poll() is None  # still running: the record was someone else's process
    finally:
        bystander.kill()
        bystander.wait()


def test_the_mailbox_process_captures_mail_and_the_services_are_pointed_at_it(tmp_path: Path) -> None:
    """devstack's loopback SMTP server (infra/mailbox.py) as its own recorded process; the applications service
    sends to it, its links point at the portal, and the portal shows its folder at /dev/mailbox."""
    import smtplib
    from email.message import EmailMessage

    from infra.devstack import SERVICES
    from infra.mailbox import messages

    stack = Stack(tmp_path, Ports.free(), environment="test")
    applications = next(spec for spec in SERVICES if spec.name == "applications")
    env = stack.service_env(applications)
    assert env["APPLICATIONS_SMTP_HOST"] == "127.0.0.1" and env["APPLICATIONS_SMTP_PORT"] == str(stack.ports.smtp)
    assert env["APPLICATIONS_PORTAL_BASE_URL"] == stack.url("portal")
    assert stack.portal_env()["PORTAL_DEV_MAILBOX_DIR"] == str(stack.mailbox_dir)
    assert not any(key.startswith("REGISTRY_SMTP") for key in stack.service_env(SERVICES[0]))
    stack.start_mailbox()
    try:
        assert "mailbox" in _recorded(tmp_path)["processes"]
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Thử thư", "a@sct-hanoi.example", "b@example.vn"
        message["Message-ID"] = "<devstack-test@sct-hanoi.example>"
        message.set_content("Xin chào")
        with smtplib.SMTP("127.0.0.1", stack.ports.smtp, timeout=10) as smtp:
            smtp.send_message(message)
        [captured] = messages(stack.mailbox_dir)
        assert captured["Subject"] == "Thử thư"
    finally:
        stack.stop_process("mailbox")
    assert "mailbox" not in _recorded(tmp_path)["processes"]


def test_replicated_stack_gives_every_replica_its_own_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`replicas=2`: two processes per service, gateway and portal, each on its own port behind the part's usual
    (front) port; Keycloak, PostgreSQL and the mailbox stay single. CLEANPROD_REPLICAS sets it; nonsense is refused."""
    stack = Stack(tmp_path, Ports.free(), replicas=2)
    assert stack.replica_names("applications") == ["applications-1", "applications-2"]
    assert stack.replica_names("mailbox") == ["mailbox"]
    fronts = {getattr(stack.ports, part) for part in devstack.REPLICATED}
    backends = [stack._replica_port(n) for part in devstack.REPLICATED for n in stack.replica_names(part)]
    assert len(backends) == 10 and len(set(backends)) == 10 and not fronts & set(backends)
    assert Stack(tmp_path, Ports.free()).replica_names("gateway") == ["gateway"]
    with pytest.raises(ValueError):
        Stack(tmp_path, Ports.free(), replicas=0)
    monkeypatch.setenv("CLEANPROD_REPLICAS", "2")
    assert devstack.replicas_from_env() == 2
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("CLEANPROD_REPLICAS", bad)
        with pytest.raises(SystemExit):
            devstack.replicas_from_env()
    monkeypatch.delenv("CLEANPROD_REPLICAS")
    assert devstack.replicas_from_env() == 1
