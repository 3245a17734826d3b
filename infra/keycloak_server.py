"""A real Keycloak for dev and tests, from the official server distribution (no Docker): its instances.

The distribution (`org.keycloak:keycloak-quarkus-dist`, pinned in keycloak_dist.py) is fetched once with Maven into
a cache outside the repo ($CLEANPROD_CACHE, default ~/.cache/cleanprod), checked against a pinned SHA-256, and
unpacked once. Any number of *instances* then run from that one unpacked copy; each instance owns a data folder chosen
by the caller (e.g. `.data/keycloak-dev` for dev, a temporary folder for tests) holding:

    h2/keycloakdb.mv.db   the dev-mode H2 database (realm, users, signing keys, sessions) -- via --db-url
    import/               the realm file(s) copied from infra/keycloak/, imported on a fresh database
    transaction-logs/     Narayana's object store (otherwise it would go to the shared distribution)
    keycloak.log          server output
    instance.json         pid, ports, realm digest (used by `status`, `stop`, and to reuse a running server)

Nothing is written into the shared distribution after its first start: that first start (done under a file
lock) re-augments the Quarkus build for dev mode once; later starts with the same build options skip it.

The realm import at startup is what `--import-realm` does, pointed at the instance's own folder: the option
itself only knows `<distribution>/data/import`, and sets the `keycloak.migration.dir` system property that the
server then reads; we set that property directly. Import runs only on a fresh database (an existing realm is
never overwritten), and `${ENV_VAR:default}` placeholders in the realm file are resolved.

CLI (keycloak_cli.py):  python -m infra.keycloak_server start|stop|restart|status|fetch [--data DIR] [--port N]
      [--management-port N] [--timeout S] [--reset]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .keycloak_dist import KEYCLOAK_VERSION, ensure_distribution, file_lock
from .ports import HOST, port_open

log = logging.getLogger("infra.keycloak")

REPO_ROOT = Path(__file__).resolve().parent.parent
REALM_DIR = Path(__file__).resolve().parent / "keycloak"
THEME_DIR = REALM_DIR / "themes"  # login theme "cleanprod": Keycloak's pages with Vietnamese messages
REALM_NAME = "cleanprod"
API_AUDIENCE = "cleanprod-api"

DEFAULT_DATA_DIR = REPO_ROOT / ".data" / "keycloak-dev"
DEFAULT_HTTP_PORT = 18080
DEFAULT_MANAGEMENT_PORT = 19000
DEFAULT_TIMEOUT = 180.0

# JVM options appended to kc.sh's defaults (which are -Xms64m -Xmx512m): keep two instances on a small box.
# (-XX:TieredStopAtLevel=1 would start ~1.8 s faster but makes password grants ~2.4x slower: not worth it.)
DEFAULT_JAVA_OPTS = "-Xms64m -Xmx384m"
JAVA_OPTS_ENV = "CLEANPROD_KC_JAVA_OPTS"

# Master-realm admin, created by Keycloak on the first start of a fresh database only. DEV ONLY.
ADMIN_USER_ENV, ADMIN_PASSWORD_ENV = "CLEANPROD_KC_ADMIN_USER", "CLEANPROD_KC_ADMIN_PASSWORD"

# Demo users' password (realm file). DEV ONLY.
DEMO_PASSWORD = "Demo@2026"

# Confidential clients: realm file placeholder `${ENV:dev-<client>-secret}`; same resolution here.
CLIENT_SECRET_ENV = {
    "svc-registry": "CLEANPROD_SVC_REGISTRY_SECRET",
    "svc-applications": "CLEANPROD_SVC_APPLICATIONS_SECRET",
    "svc-verification": "CLEANPROD_SVC_VERIFICATION_SECRET",
    "svc-gateway": "CLEANPROD_SVC_GATEWAY_SECRET",
    "egov-demo": "CLEANPROD_EGOV_DEMO_SECRET",
    "cleanprod-portal": "CLEANPROD_PORTAL_SECRET",
}
# The portal's base URL as the realm's redirect and post-logout URIs name it (`${CLEANPROD_PORTAL_URL:…}`);
# loopback on any port is allowed besides (Keycloak matches http://127.0.0.1/… without the port).
PORTAL_URL_ENV = "CLEANPROD_PORTAL_URL"

# Build-time options: must stay identical for every instance, or Keycloak re-augments the shared distribution.
_BUILD_OPTIONS = ("--health-enabled=true",)


def client_secret(client_id: str) -> str:
    """Secret of a confidential client as the realm import resolves it (env var, else the dev default).

    Only what the environment held when the instance's database was *created* counts: the import runs once.
    """
    env = CLIENT_SECRET_ENV[client_id]
    return os.environ.get(env) or f"dev-{client_id}-secret"


@dataclass(frozen=True)
class KeycloakInstance:
    data_dir: Path
    http_port: int
    management_port: int
    pid: int
    base_url: str  # http://127.0.0.1:<port>
    issuer: str  # <base_url>/realms/cleanprod  (the `iss` of every token)
    management_url: str  # http://127.0.0.1:<management port>  (/health/ready, /health/live)
    log_file: Path
    realm: str = REALM_NAME
    started_in: float | None = None  # seconds from spawn to ready, when this call started it

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def well_known_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/admin/realms/{self.realm}"


def _realm_files(realm_dir: Path) -> list[Path]:
    files = sorted(p for p in realm_dir.glob("*.json") if p.is_file())
    if not files:
        raise FileNotFoundError(f"no realm JSON in {realm_dir}")
    return files


def _realm_digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _state_path(data_dir: Path) -> Path:
    return data_dir / "instance.json"


def _read_state(data_dir: Path) -> dict | None:
    try:
        return json.loads(_state_path(data_dir).read_text())
    except (FileNotFoundError, ValueError):
        return None


def _write_state(data_dir: Path, state: dict) -> None:
    tmp = _state_path(data_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(_state_path(data_dir))


def _group_alive(pgid: int, marker: str) -> bool:
    """True while a process of group `pgid` still runs *and* belongs to this instance (guards against pid reuse)."""
    if pgid <= 1:  # never signal our own group (0) or init
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: trust the group check
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != pgid:
                continue
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                return True
        except (ProcessLookupError, PermissionError, FileNotFoundError, OSError):
            continue
    return False


def _http_get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback URLs we built
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def is_ready(management_url: str) -> bool:
    try:
        status, body = _http_get(f"{management_url}/health/ready")
    except (OSError, urllib.error.URLError):
        return False
    if status != 200:
        return False
    try:
        return json.loads(body).get("status") == "UP"
    except ValueError:
        return False


def _instance_from_state(data_dir: Path, state: dict, started_in: float | None = None) -> KeycloakInstance:
    base = f"http://{HOST}:{state['http_port']}"
    return KeycloakInstance(
        data_dir=data_dir,
        http_port=state["http_port"],
        management_port=state["management_port"],
        pid=state["pid"],
        base_url=base,
        issuer=f"{base}/realms/{state.get('realm', REALM_NAME)}",
        management_url=f"http://{HOST}:{state['management_port']}",
        log_file=data_dir / "keycloak.log",
        realm=state.get("realm", REALM_NAME),
        started_in=started_in,
    )


def keycloak_status(data_dir: Path | str = DEFAULT_DATA_DIR) -> KeycloakInstance | None:
    """The instance running from `data_dir`, or None."""
    data_dir = Path(data_dir).resolve()
    state = _read_state(data_dir)
    if not state or not _group_alive(state["pid"], str(data_dir)):
        return None
    return _instance_from_state(data_dir, state)


def is_running(data_dir: Path | str = DEFAULT_DATA_DIR) -> bool:
    return keycloak_status(data_dir) is not None


def _log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _set_parent_death_signal() -> None:  # runs in the child between fork and exec (Linux only)
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: TERM kc.sh (which forwards it) if we die


# Servers this process started, so they can be reaped (no zombies, no "still running" ResourceWarning).
_CHILDREN: dict[Path, subprocess.Popen] = {}


def _reset_database(data_dir: Path) -> None:
    for name in ("h2", "transaction-logs"):
        shutil.rmtree(data_dir / name, ignore_errors=True)


def _running_instance(
    data_dir: Path, http_port: int, management_port: int, *, reset: bool, timeout: float
) -> KeycloakInstance | None:
    """The instance already running from `data_dir`, ready (None: none runs, or it was stopped for a reset)."""
    running = keycloak_status(data_dir)
    if running is None:
        return None
    if (running.http_port, running.management_port) != (http_port, management_port):
        raise RuntimeError(
            f"Keycloak already runs from {data_dir} on ports {running.http_port}/{running.management_port}; "
            f"stop it first to use {http_port}/{management_port}"
        )
    if reset:
        stop_keycloak(data_dir)
        return None
    _wait_ready(running, None, time.monotonic() + timeout)
    return running


def ensure_keycloak(
    data_dir: Path | str = DEFAULT_DATA_DIR,
    http_port: int = DEFAULT_HTTP_PORT,
    management_port: int = DEFAULT_MANAGEMENT_PORT,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    reset: bool = False,
    realm_dir: Path | str = REALM_DIR,
    stop_with_parent: bool = False,
    java_opts: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> KeycloakInstance:
    """Start Keycloak on `data_dir` (or reuse the one already running there) and wait until it serves the realm.

    - `reset=True` drops the instance's database first, so the realm file is imported afresh (users created at
      runtime are lost). Without it, a database whose realm came from an older realm file is kept as it is
      (Keycloak never re-imports an existing realm) and a warning says so.
    - `stop_with_parent=True` (tests): the server gets SIGTERM if the calling process dies without stopping it.
    - `java_opts` replaces DEFAULT_JAVA_OPTS ($CLEANPROD_KC_JAVA_OPTS does the same from the environment).
    - `extra_env`: more environment for the server, e.g. values for the realm file's `${VAR:default}` placeholders
      (they count only when the realm is imported, i.e. on a fresh database).
    """
    data_dir = Path(data_dir).resolve()
    realm_dir = Path(realm_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    files = _realm_files(realm_dir)
    digest = _realm_digest(files)

    running = _running_instance(data_dir, http_port, management_port, reset=reset, timeout=timeout)
    if running is not None:
        return running

    for port in (http_port, management_port):
        if port_open(port):
            raise RuntimeError(f"port {port} is already in use by another process; choose other Keycloak ports")

    home = ensure_distribution()
    db_file = data_dir / "h2" / "keycloakdb.mv.db"
    previous = _read_state(data_dir) or {}
    if reset:
        _reset_database(data_dir)
    elif db_file.exists() and previous.get("realm_digest") not in (None, digest):
        log.warning(
            "%s was imported from an older version of the realm files in %s; Keycloak keeps the existing realm. "
            "Restart with reset (CLI: start --reset) to re-import it (drops users created at runtime).",
            data_dir,
            realm_dir,
        )
    fresh_db = not db_file.exists()

    import_dir = data_dir / "import"
    shutil.rmtree(import_dir, ignore_errors=True)
    import_dir.mkdir()
    for path in files:
        shutil.copy2(path, import_dir / path.name)

    base_url = f"http://{HOST}:{http_port}"
    args = [
        str(home / "bin" / "kc.sh"),
        # -D arguments go to the JVM (kc.sh moves them there); this is what --import-realm sets, for our folder.
        f"-Dkeycloak.migration.dir={import_dir}",
        f"-Dquarkus.transaction-manager.object-store.directory={data_dir / 'transaction-logs'}",
        "start-dev",
        *_BUILD_OPTIONS,
        f"--db-url=jdbc:h2:file:{data_dir / 'h2' / 'keycloakdb'};NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;"
        "DB_CLOSE_DELAY=0",
        f"--http-host={HOST}",
        f"--http-port={http_port}",
        f"--http-management-port={management_port}",
        f"--hostname={base_url}",
        "--log-console-color=false",
    ]
    if THEME_DIR.is_dir():  # our themes from the repository, not copied into the shared distribution
        args.append(f"--spi-theme--folder--dir={THEME_DIR}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KC_", "KEYCLOAK_", "JAVA_OPTS"))}
    env["JAVA_OPTS_APPEND"] = java_opts if java_opts is not None else os.environ.get(JAVA_OPTS_ENV, DEFAULT_JAVA_OPTS)
    env["KC_BOOTSTRAP_ADMIN_USERNAME"] = os.environ.get(ADMIN_USER_ENV, "admin")
    env["KC_BOOTSTRAP_ADMIN_PASSWORD"] = os.environ.get(ADMIN_PASSWORD_ENV, "admin")
    env.update(extra_env or {})

    log_file = data_dir / "keycloak.log"
    # One start at a time per distribution: the very first one rewrites its Quarkus build (lib/quarkus/), and
    # two JVMs booting at once on two cores only slow each other down.
    with file_lock(home.parent / f"keycloak-{KEYCLOAK_VERSION}.lock"):
        for port in (http_port, management_port):
            if port_open(port):
                raise RuntimeError(f"port {port} is already in use by another process; choose other Keycloak ports")
        started = time.monotonic()
        with log_file.open("ab") as out:
            out.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} start-dev on {base_url} =====\n".encode())
            out.flush()
            proc = subprocess.Popen(  # noqa: S603
                args,
                cwd=data_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_set_parent_death_signal if stop_with_parent and sys.platform.startswith("linux") else None,
            )
        _CHILDREN[data_dir] = proc
        state = {
            "pid": proc.pid,
            "http_port": http_port,
            "management_port": management_port,
            "realm": REALM_NAME,
            "keycloak_version": KEYCLOAK_VERSION,
            "started_at": time.time(),
            "realm_digest": digest if fresh_db else previous.get("realm_digest"),
        }
        _write_state(data_dir, state)
        instance = _instance_from_state(data_dir, state)
        try:
            _wait_ready(instance, proc, started + timeout)
        except BaseException:
            stop_keycloak(data_dir)
            raise
    elapsed = time.monotonic() - started
    log.info("Keycloak ready at %s in %.1f s (data %s)", instance.issuer, elapsed, data_dir)
    return _instance_from_state(data_dir, state, started_in=elapsed)


def _wait_ready(instance: KeycloakInstance, proc: subprocess.Popen | None, deadline: float) -> None:
    """Wait for /health/ready = UP on the management port, then for the realm's discovery document."""

    def check_alive() -> None:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"Keycloak exited with status {proc.returncode}; last log lines "
                f"({instance.log_file}):\n{_log_tail(instance.log_file)}"
            )

    while not is_ready(instance.management_url):
        check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"Keycloak not ready at {instance.management_url}/health/ready in time; last log "
                f"lines ({instance.log_file}):\n{_log_tail(instance.log_file)}"
            )
        time.sleep(0.25)
    while True:
        check_alive()
        try:
            status, body = _http_get(instance.well_known_url)
        except (OSError, urllib.error.URLError):
            status, body = 0, b""
        if status == 200:
            issuer = json.loads(body).get("issuer")
            if issuer != instance.issuer:
                raise RuntimeError(f"realm issuer is {issuer!r}, expected {instance.issuer!r}")
            return
        if status == 404:
            raise RuntimeError(
                f"Keycloak is up but realm {instance.realm!r} does not exist (import failed?); see "
                f"{instance.log_file}:\n{_log_tail(instance.log_file)}"
            )
        if time.monotonic() > deadline:
            raise TimeoutError(f"{instance.well_known_url} did not answer in time (last status {status})")
        time.sleep(0.25)


def stop_keycloak(target: KeycloakInstance | Path | str = DEFAULT_DATA_DIR, *, timeout: float = 30.0) -> bool:
    """Stop the instance gracefully (SIGTERM to its process group), SIGKILL after `timeout`. True if it ran."""
    data_dir = (target.data_dir if isinstance(target, KeycloakInstance) else Path(target)).resolve()
    state = _read_state(data_dir)
    if not state:
        return False
    pgid, marker = state["pid"], str(data_dir)
    was_running = _group_alive(pgid, marker)
    if was_running:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _group_alive(pgid, marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _group_alive(pgid, marker):
            log.warning("Keycloak (pgid %s) ignored SIGTERM for %.0f s; killing it", pgid, timeout)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            while _group_alive(pgid, marker):
                time.sleep(0.1)
    child = _CHILDREN.pop(data_dir, None)
    if child is not None and child.pid == pgid:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)  # reap it: we are its parent
    state["pid"] = 0
    state["stopped_at"] = time.time()
    _write_state(data_dir, state)
    return was_running


def restart_keycloak(
    instance: KeycloakInstance, *, timeout: float = DEFAULT_TIMEOUT, stop_with_parent: bool = False
) -> KeycloakInstance:
    """Stop and start again on the same data and ports. The database persists: same realm, users, signing keys."""
    stop_keycloak(instance)
    return ensure_keycloak(
        instance.data_dir,
        instance.http_port,
        instance.management_port,
        timeout=timeout,
        stop_with_parent=stop_with_parent,
    )


def remove_data(data_dir: Path | str) -> None:
    stop_keycloak(data_dir)
    shutil.rmtree(Path(data_dir), ignore_errors=True)


def demo_users(realm_file: Path | str = REALM_DIR / "realm-cleanprod.json") -> dict[str, dict]:
    """Demo users of the realm file: username -> {"roles": [...], "tax_code": str | None, "name": "..."}."""
    realm = json.loads(Path(realm_file).read_text(encoding="utf-8"))
    users = {}
    for user in realm.get("users", []):
        if user.get("serviceAccountClientId"):
            continue
        roles = [r for r in user.get("realmRoles", []) if not r.startswith("default-roles-")]
        tax = (user.get("attributes") or {}).get("tax_code", [None])[0]
        users[user["username"]] = {
            "roles": roles,
            "tax_code": tax,
            "name": f"{user.get('lastName', '')} {user.get('firstName', '')}".strip(),
        }
    return users


if __name__ == "__main__":  # the command line lives in keycloak_cli.py; this keeps `python -m infra.keycloak_server`
    from infra.keycloak_cli import main

    sys.exit(main())
