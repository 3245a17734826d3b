"""Command line for the dev and test Keycloak instances (run as `python -m infra.keycloak_server …`).

python -m infra.keycloak_server start|stop|restart|status|fetch [--data DIR] [--port N] [--management-port N]
    [--timeout S] [--reset]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .keycloak_dist import KEYCLOAK_VERSION, ensure_distribution
from .keycloak_server import (
    ADMIN_PASSWORD_ENV,
    ADMIN_USER_ENV,
    DEFAULT_DATA_DIR,
    DEFAULT_HTTP_PORT,
    DEFAULT_MANAGEMENT_PORT,
    DEFAULT_TIMEOUT,
    KeycloakInstance,
    ensure_keycloak,
    is_ready,
    keycloak_status,
    stop_keycloak,
)
from .keycloak_server import __doc__ as SERVER_DOC


def _describe(instance: KeycloakInstance) -> str:
    lines = [
        f"Keycloak {KEYCLOAK_VERSION} running (pid {instance.pid}), data {instance.data_dir}",
        f"  base URL        {instance.base_url}   (admin console: {instance.base_url}/admin/, dev admin from "
        f"${ADMIN_USER_ENV}/${ADMIN_PASSWORD_ENV}, default admin/admin)",
        f"  issuer          {instance.issuer}",
        f"  JWKS            {instance.jwks_url}",
        f"  token endpoint  {instance.token_url}",
        f"  health          {instance.management_url}/health/ready",
        f"  log             {instance.log_file}",
    ]
    if instance.started_in is not None:
        lines.append(f"  started in      {instance.started_in:.1f} s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=SERVER_DOC, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["start", "stop", "restart", "status", "fetch"])
    parser.add_argument("--data", default=str(DEFAULT_DATA_DIR), help="instance folder (default: %(default)s)")
    parser.add_argument("--port", type=int, default=DEFAULT_HTTP_PORT, help="HTTP port (default: %(default)s)")
    parser.add_argument(
        "--management-port",
        type=int,
        default=DEFAULT_MANAGEMENT_PORT,
        help="management (health) port (default: %(default)s)",
    )
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for readiness")
    parser.add_argument("--reset", action="store_true", help="start: drop the database and re-import the realm")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    data = Path(args.data)

    if args.command == "fetch":
        print(ensure_distribution())
        return 0
    if args.command == "start":
        print(_describe(ensure_keycloak(data, args.port, args.management_port, timeout=args.timeout, reset=args.reset)))
        return 0
    if args.command == "restart":
        current = keycloak_status(data)
        if current is not None:
            stop_keycloak(current)
        print(_describe(ensure_keycloak(data, args.port, args.management_port, timeout=args.timeout, reset=args.reset)))
        return 0
    if args.command == "stop":
        print("stopped" if stop_keycloak(data) else "not running")
        return 0
    current = keycloak_status(data)
    if current is None:
        print(f"stopped (data {data.resolve()})")
        return 3
    print(_describe(current))
    print(f"  ready           {'yes' if is_ready(current.management_url) else 'no'}")
    return 0
