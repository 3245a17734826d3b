"""docker-compose.yml cannot run on the build machines (no Docker engine), so this test keeps it honest:
every variable it sets exists in the code's settings, every ${VAR} has a value in .env.example, every image
the services build is the one Dockerfile, and the ports line up with the entrypoint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_gateway.settings import GatewaySettings
from cleanprod_portal.config import PortalSettings
from cleanprod_registry.config import RegistrySettings
from cleanprod_verification.config import VerificationSettings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS = {
    "registry": (RegistrySettings, "REGISTRY_"),
    "applications": (ApplicationsSettings, "APPLICATIONS_"),
    "verification": (VerificationSettings, "VERIFICATION_"),
    "gateway": (GatewaySettings, "GATEWAY_"),
    "portal": (PortalSettings, "PORTAL_"),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_environment_names_are_settings_fields(name: str) -> None:
    settings_class, prefix = SETTINGS[name]
    environment = COMPOSE["services"][name]["environment"]
    fields = set(settings_class.model_fields)
    for variable in environment:
        assert variable.startswith(prefix), variable
        assert variable[len(prefix) :].lower() in fields, f"{variable} is not a field of {settings_class.__name__}"


@pytest.mark.parametrize("name", list(SETTINGS))
def test_each_python_part_builds_from_the_one_dockerfile(name: str) -> None:
    build = COMPOSE["services"][name]["build"]
    assert build["dockerfile"] == "infra/docker/service.Dockerfile" and build["args"]["SERVICE"] == name
    assert (ROOT / build["dockerfile"]).exists()
    assert f"{name})" in (ROOT / "infra/docker/entrypoint.sh").read_text() or name == "gateway"


def test_every_placeholder_has_a_value_in_env_example() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)\}", text))
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used <= example, used - example


def test_service_urls_use_the_entrypoint_port_and_known_hosts() -> None:
    port = re.search(r"--port (\d+)", (ROOT / "infra/docker/entrypoint.sh").read_text()).group(1)
    hosts = set(COMPOSE["services"]) | {"localhost"}  # localhost: the public issuer (pinned Keycloak hostname)
    for service in COMPOSE["services"].values():
        for value in (service.get("environment") or {}).values():
            for host, url_port in re.findall(r"http://([a-z]+):(\d+)", str(value)):
                assert host in hosts, host
                if host in SETTINGS:
                    assert url_port == port


def test_realm_secrets_match_the_realm_placeholders() -> None:
    realm = (ROOT / "infra/keycloak/realm-cleanprod.json").read_text()
    placeholders = set(re.findall(r"\$\{(CLEANPROD_[A-Z_]+)", realm))
    assert placeholders and placeholders <= set(COMPOSE["services"]["keycloak"]["environment"])


def test_issuer_is_the_same_everywhere() -> None:
    issuers = {
        value
        for service in COMPOSE["services"].values()
        for key, value in (service.get("environment") or {}).items()
        if key.endswith("OIDC_ISSUER")
    }
    assert issuers == {"http://localhost:18080/realms/cleanprod"}
    keycloak_command = " ".join(COMPOSE["services"]["keycloak"]["command"])
    assert "--hostname=http://localhost:18080" in keycloak_command
