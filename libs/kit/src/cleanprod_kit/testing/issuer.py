"""A token issuer for service-level tests: an RSA key whose JWKS is served over real HTTP on loopback, so tokens
go through exactly the verifier code (`cleanprod_kit.auth`) that checks Keycloak tokens in production."""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "cleanprod-api"


class TestIssuer:
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex
        self.jwks_requests = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                issuer.jwks_requests += 1
                body = json.dumps(issuer.jwks()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        port = self.server.server_address[1]
        self.issuer = f"http://127.0.0.1:{port}/realms/cleanprod"
        self.jwks_url = f"http://127.0.0.1:{port}/realms/cleanprod/protocol/openid-connect/certs"

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [public]}

    def rotate(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = uuid.uuid4().hex

    def token(
        self,
        *roles: str,
        sub: str | None = None,
        username: str | None = None,
        tax_code: str | None = None,
        audience: str | list[str] = AUDIENCE,
        issuer: str | None = None,
        expires_in: int = 300,
        key: Any = None,
        kid: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": issuer or self.issuer,
            "aud": audience,
            "sub": sub or str(uuid.uuid4()),
            "iat": now,
            "exp": now + expires_in,
            "azp": "cleanprod-test",
            "preferred_username": username or (roles[0] + "-user" if roles else "nobody"),
            "realm_access": {"roles": list(roles)},
        }
        if tax_code:
            claims["tax_code"] = tax_code
        claims.update(extra or {})
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    def client_token(self, client_id: str, *roles: str, **kw: Any) -> str:
        """A client-credentials token as Keycloak issues it for `client_id`'s service account (`azp` = client)."""
        account = f"service-account-{client_id}"
        extra = {"azp": client_id, **kw.pop("extra", {})}
        return self.token(*roles, sub=kw.pop("sub", account), username=kw.pop("username", account), extra=extra, **kw)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
