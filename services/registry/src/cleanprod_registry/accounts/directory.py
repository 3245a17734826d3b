"""Enterprise logins live in Keycloak. The registry creates them through Keycloak's admin API with its own
service account (`svc-registry`, realm-management manage-users) via python-keycloak.

The platform — never the user — sets `tax_code` (the realm declares it admin-editable only), and the only realm
role this code ever grants is `enterprise`: the service account could technically grant more, so the role name
is fixed here rather than taken from input."""

from __future__ import annotations

import json
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cleanprod_kit.errors import Conflict, ServiceUnavailable, Unprocessable, field_error
from cleanprod_kit.roles import Role

ENTERPRISE_ROLE = Role.ENTERPRISE
T = TypeVar("T")


@dataclass(frozen=True)
class NewAccount:
    user_id: str
    username: str
    temporary_password: str


# Keycloak's user-profile attribute names -> this API's field names.
KEYCLOAK_FIELDS = {"username": "username", "email": "email", "firstName": "first_name", "lastName": "last_name"}


def refused_by_keycloak(body: bytes | str | None) -> Unprocessable:
    """A 400 from Keycloak's admin API (a user-profile validator refused a value) as a 422 naming the field when
    Keycloak names one: it is the input that is wrong, not the identity provider that is down."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    reason = str(answer.get("errorMessage") or answer.get("error") or "refused")[:200]
    field = KEYCLOAK_FIELDS.get(str(answer.get("field") or ""))
    errors = [field_error(field, code="identity_provider_refused", reason=reason)] if field else []
    return Unprocessable(code="identity_provider_refused", params={"reason": reason}, errors=errors)


def temporary_password(length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(length - 3))
    return core + secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits) + "!"


class AccountDirectory:
    def __init__(self, *, keycloak_url: str, realm: str, client_id: str, client_secret: str) -> None:
        from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

        connection = KeycloakOpenIDConnection(
            server_url=keycloak_url.rstrip("/") + "/",
            realm_name=realm,
            user_realm_name=realm,
            client_id=client_id,
            client_secret_key=client_secret,
            timeout=10,
        )
        self._admin = KeycloakAdmin(connection=connection)

    async def create_enterprise_account(
        self, *, username: str, email: str, first_name: str, last_name: str, tax_code: str
    ) -> NewAccount:
        from keycloak.exceptions import KeycloakError

        password = temporary_password()
        try:
            user_id = await self._admin.a_create_user(
                {
                    "username": username,
                    "email": email,
                    "enabled": True,
                    "emailVerified": False,
                    "firstName": first_name,
                    "lastName": last_name,
                    "attributes": {"tax_code": [tax_code]},
                    "credentials": [{"type": "password", "value": password, "temporary": True}],
                    "requiredActions": ["UPDATE_PASSWORD"],
                }
            )
            available = {r["name"]: r for r in await self._admin.a_get_available_realm_roles_of_user(user_id)}
            await self._admin.a_assign_realm_roles(user_id, [available[ENTERPRISE_ROLE]])
        except KeycloakError as exc:
            if getattr(exc, "response_code", None) == 409:
                raise Conflict(code="login_exists", params={"username": username, "email": email}) from None
            if getattr(exc, "response_code", None) == 400:  # Keycloak's user profile refused a value: the input's
                raise refused_by_keycloak(getattr(exc, "response_body", b"")) from None
            raise ServiceUnavailable(
                "The identity provider refused or failed the request; try again later.",
                code="identity_provider_unavailable",
            ) from exc
        except (OSError, KeyError) as exc:
            raise ServiceUnavailable(
                "The identity provider is unreachable; try again later.", code="identity_provider_unavailable"
            ) from exc
        return NewAccount(user_id=user_id, username=username, temporary_password=password)

    async def list_enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
        users = await _asked(self._admin.a_get_users({"q": f"tax_code:{tax_code}", "briefRepresentation": False}))
        return [u for u in users if tax_code in (u.get("attributes") or {}).get("tax_code", [])]

    async def list_role_members(self, role: str, *, with_attributes: bool = False) -> list[dict[str, Any]]:
        """The users holding a realm role (the Department's staff; enterprises are listed per tax code);
        `with_attributes` asks for the full representation (attributes such as `locale`)."""
        query = {"briefRepresentation": False} if with_attributes else None
        return await _asked(self._admin.a_get_realm_role_members(role, query))

    async def get_user(self, user_id: str) -> dict[str, Any] | None:
        """One user with its attributes; None when Keycloak has no such user."""
        from keycloak.exceptions import KeycloakGetError

        try:
            return await _asked(self._admin.a_get_user(user_id))
        except ServiceUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, KeycloakGetError) and getattr(cause, "response_code", None) == 404:
                return None
            raise


async def _asked(request: Awaitable[T]) -> T:
    """The identity provider's answer to a read; its failures are 503 `identity_provider_unavailable`."""
    from keycloak.exceptions import KeycloakError

    try:
        return await request
    except KeycloakError as exc:
        raise ServiceUnavailable(
            "The identity provider failed the request; try again later.", code="identity_provider_unavailable"
        ) from exc
    except OSError as exc:
        raise ServiceUnavailable(
            "The identity provider is unreachable; try again later.", code="identity_provider_unavailable"
        ) from exc


class RecipientListings:
    """Keycloak's answers to "who gets this mail" (`/internal/recipients`), kept `seconds` per enterprise (tax
    code), realm role and user: the mail sender asks the same enterprise again for every notification of a busy
    moment, and each answer was a Keycloak admin call. A recipient list, not an authorization decision: a login
    disabled or removed in Keycloak is still mailed for at most `seconds` after the change, never later; a login
    created is mailed from at most `seconds` after. Only the recipients endpoint reads through this; the officers'
    listing of an enterprise's logins asks Keycloak every time. Failures are not kept (the next call asks again)."""

    MAX_ENTRIES = 2_000  # expired entries are dropped once there are more than this

    def __init__(self, directory: Any, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.directory = directory
        self.seconds = seconds
        self._clock = clock
        self._kept: dict[tuple[str, str], tuple[float, Any]] = {}

    async def _kept_or_asked(self, key: tuple[str, str], ask: Callable[[], Awaitable[T]]) -> T:
        now = self._clock()
        found = self._kept.get(key)
        if found is not None and found[0] > now:
            return found[1]  # type: ignore[no-any-return]
        answer = await ask()
        if self.seconds > 0:
            if len(self._kept) >= self.MAX_ENTRIES:
                self._kept = {k: v for k, v in self._kept.items() if v[0] > now}
            self._kept[key] = (now + self.seconds, answer)
        return answer

    async def enterprise_accounts(self, tax_code: str) -> list[dict[str, Any]]:
        return await self._kept_or_asked(
            ("enterprise", tax_code), lambda: self.directory.list_enterprise_accounts(tax_code)
        )

    async def role_members(self, role: str) -> list[dict[str, Any]]:
        """With attributes (the `locale`)."""
        return await self._kept_or_asked(
            ("role", role), lambda: self.directory.list_role_members(role, with_attributes=True)
        )

    async def user(self, user_id: str) -> dict[str, Any] | None:
        return await self._kept_or_asked(("user", user_id), lambda: self.directory.get_user(user_id))
