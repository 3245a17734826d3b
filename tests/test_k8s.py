"""The Kubernetes manifests (infra/k8s) cannot be applied here (no cluster), so this keeps them honest: both overlays
render (infra/kustomize.py), every object of the Kubernetes API validates against the pinned API schemas
(kubernetes-validate, strict: unknown fields fail), the operators' resources against schemas of the fields we use
(written from the CloudNativePG and Keycloak Operator references: their CRDs are not published on PyPI, npm or
Maven), every part has an HPA, a PDB, probes, limits and a graceful stop, every variable is a settings field, the
dev overlay's values build each settings class, and what references what (Secrets, Services, databases) exists."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from cleanprod_applications.config import ApplicationsSettings
from cleanprod_gateway.settings import GatewaySettings
from cleanprod_portal.config import PortalSettings
from cleanprod_registry.config import RegistrySettings
from cleanprod_verification.config import VerificationSettings
from infra import k8s_realm
from infra.kustomize import build

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "infra/k8s"
KUBERNETES_VERSION = "1.37.0"
PARTS = {
    "registry": (RegistrySettings, "REGISTRY_"),
    "applications": (ApplicationsSettings, "APPLICATIONS_"),
    "verification": (VerificationSettings, "VERIFICATION_"),
    "gateway": (GatewaySettings, "GATEWAY_"),
    "portal": (PortalSettings, "PORTAL_"),
}
WITH_DATABASE = ("registry", "applications", "verification", "portal")
Resource = dict[str, Any]


def _generated_value(name: str) -> str:
    if name.endswith("WEBHOOK_SECRET_KEY"):
        return base64.b64encode(secrets.token_bytes(32)).decode()
    return secrets.token_urlsafe(24)


def _production_copy(tmp: Path) -> Path:
    """The production overlay as an operator prepares it: every secrets/*.env.example copied to secrets/*.env with
    the empty values generated as the examples say."""
    tree = tmp / "k8s"
    shutil.copytree(K8S, tree)
    for example in (tree / "overlays/production/secrets").glob("*.env.example"):
        lines = []
        for line in example.read_text().splitlines():
            name, sep, value = line.partition("=")
            lines.append(f"{name}={_generated_value(name)}" if sep and not value and not line.startswith("#") else line)
        example.with_suffix("").write_text("\n".join(lines) + "\n")
    return tree / "overlays/production"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Resource]]:
    return {
        "dev": build(K8S / "overlays/dev"),
        "production": build(_production_copy(tmp_path_factory.mktemp("production"))),
    }


def _of(resources: list[Resource], kind: str) -> dict[str, Resource]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def _pod(resource: Resource) -> dict[str, Any]:
    return resource["spec"]["template"]["spec"]


def _decoded(secret: Resource) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}


# --- schemas of the operators' resources (the fields this project uses; additionalProperties: false catches typos)


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
POSITIVE = {"type": "integer", "minimum": 1}
NAME_REF = _obj({"name": STRING}, ("name",))
KEY_REF = _obj({"name": STRING, "key": STRING}, ("name", "key"))
STRING_MAP = {"type": "object", "additionalProperties": STRING}
QUANTITIES = {"type": "object", "additionalProperties": {"type": ["string", "integer"]}}
RESOURCES = _obj({"requests": QUANTITIES, "limits": QUANTITIES})
ENSURE = {"enum": ["present", "absent"]}
METADATA = {"type": "object", "required": ["name"]}


def _resource(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {"metadata": METADATA, "spec": spec},
    }


CUSTOM_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("postgresql.cnpg.io/v1", "Cluster"): _resource(
        _obj(
            {
                "instances": POSITIVE,
                "imageName": STRING,
                "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                "storage": _obj({"size": STRING, "storageClass": STRING}, ("size",)),
                "postgresql": _obj({"parameters": STRING_MAP}),
                "bootstrap": _obj(
                    {
                        "initdb": _obj(
                            {
                                "database": STRING,
                                "owner": STRING,
                                "secret": NAME_REF,
                                "encoding": STRING,
                                "postInitApplicationSQL": {"type": "array", "items": STRING},
                            },
                            ("database", "owner"),
                        )
                    }
                ),
                "managed": _obj(
                    {
                        "roles": {
                            "type": "array",
                            "items": _obj(
                                {"name": STRING, "ensure": ENSURE, "login": BOOLEAN, "passwordSecret": NAME_REF},
                                ("name",),
                            ),
                        }
                    }
                ),
                "affinity": _obj({"enablePodAntiAffinity": BOOLEAN, "topologyKey": STRING}),
                "resources": RESOURCES,
                "plugins": {
                    "type": "array",
                    "items": _obj({"name": STRING, "isWALArchiver": BOOLEAN, "parameters": STRING_MAP}, ("name",)),
                },
            },
            ("instances", "storage"),
        )
    ),
    ("postgresql.cnpg.io/v1", "Database"): _resource(
        _obj(
            {
                "cluster": NAME_REF,
                "name": STRING,
                "owner": STRING,
                "encoding": STRING,
                "ensure": ENSURE,
                "extensions": {"type": "array", "items": _obj({"name": STRING, "ensure": ENSURE}, ("name",))},
            },
            ("cluster", "name", "owner"),
        )
    ),
    ("postgresql.cnpg.io/v1", "Pooler"): _resource(
        _obj(
            {
                "cluster": NAME_REF,
                "instances": {"type": "integer", "minimum": 0},
                "type": {"enum": ["rw", "ro", "r"]},
                "pgbouncer": _obj(
                    {"poolMode": {"enum": ["session", "transaction"]}, "parameters": STRING_MAP}, ("poolMode",)
                ),
            },
            ("cluster", "pgbouncer"),
        )
    ),
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): _resource(
        _obj(
            {
                "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},  # six fields, seconds first
                "backupOwnerReference": {"enum": ["none", "self", "cluster"]},
                "cluster": NAME_REF,
                "method": {"enum": ["barmanObjectStore", "volumeSnapshot", "plugin"]},
                "pluginConfiguration": _obj({"name": STRING, "parameters": STRING_MAP}, ("name",)),
            },
            ("schedule", "cluster"),
        )
    ),
    ("barmancloud.cnpg.io/v1", "ObjectStore"): _resource(
        _obj(
            {
                "retentionPolicy": {"type": "string", "pattern": "^[1-9][0-9]*[dwm]$"},
                "configuration": _obj(
                    {
                        "destinationPath": STRING,
                        "endpointURL": STRING,
                        "s3Credentials": _obj({"accessKeyId": KEY_REF, "secretAccessKey": KEY_REF}),
                        "wal": _obj({"compression": {"enum": ["gzip", "bzip2", "snappy", "lz4", "xz", "zstd"]}}),
                        "data": _obj({"compression": {"enum": ["gzip", "bzip2", "snappy"]}}),
                    },
                    ("destinationPath",),
                ),
            },
            ("configuration",),
        )
    ),
    ("k8s.keycloak.org/v2alpha1", "Keycloak"): _resource(
        _obj(
            {
                "instances": POSITIVE,
                "image": STRING,
                "startOptimized": BOOLEAN,
                "db": _obj(
                    {
                        "vendor": STRING,
                        "host": STRING,
                        "port": POSITIVE,
                        "database": STRING,
                        "usernameSecret": KEY_REF,
                        "passwordSecret": KEY_REF,
                        "poolMaxSize": POSITIVE,
                    },
                    ("vendor",),
                ),
                "http": _obj({"httpEnabled": BOOLEAN, "tlsSecret": STRING}),
                "hostname": _obj({"hostname": STRING, "backchannelDynamic": BOOLEAN, "strict": BOOLEAN}),
                "proxy": _obj({"headers": {"enum": ["forwarded", "xforwarded"]}}),
                "ingress": _obj({"enabled": BOOLEAN}),
                "bootstrapAdmin": _obj({"user": _obj({"secret": STRING}, ("secret",))}),
                "resources": RESOURCES,
            },
        )
    ),
    ("k8s.keycloak.org/v2alpha1", "KeycloakRealmImport"): _resource(
        _obj(
            {
                "keycloakCRName": STRING,
                "placeholders": {"type": "object", "additionalProperties": _obj({"secret": KEY_REF}, ("secret",))},
                "realm": {"type": "object", "required": ["realm"]},
            },
            ("keycloakCRName", "realm"),
        )
    ),
}


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_object_validates_against_its_schema(rendered: dict[str, list[Resource]], overlay: str) -> None:
    kinds = set()
    for resource in rendered[overlay]:
        kinds.add(resource["kind"])
        custom = CUSTOM_SCHEMAS.get((resource["apiVersion"], resource["kind"]))
        if custom is not None:
            jsonschema.validate(resource, custom)
        else:  # raises SchemaNotFoundError for a kind that is neither built in nor above
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
    assert {"Deployment", "Job", "Cluster", "Pooler", "Keycloak", "KeycloakRealmImport", "Ingress"} <= kinds


def test_the_validation_catches_mistakes(rendered: dict[str, list[Resource]]) -> None:
    deployment = json.loads(json.dumps(_of(rendered["dev"], "Deployment")["registry"]))
    _pod(deployment)["containers"][0]["readinessprobe"] = _pod(deployment)["containers"][0].pop("readinessProbe")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    pooler = json.loads(json.dumps(_of(rendered["dev"], "Pooler")["cleanprod-db-pooler-rw"]))
    pooler["spec"]["pgbouncer"]["poolMode"] = "statement"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(pooler, CUSTOM_SCHEMAS["postgresql.cnpg.io/v1", "Pooler"])


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_part_has_hpa_pdb_probes_limits_and_a_graceful_stop(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    deployments = _of(resources, "Deployment")
    assert set(deployments) == set(PARTS) | {"redis"}  # Redis: the gateways' counters, one replica (redis.yaml)
    deployments = {name: d for name, d in deployments.items() if name in PARTS}
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in _of(resources, "HorizontalPodAutoscaler").values()}
    pdbs = list(_of(resources, "PodDisruptionBudget").values())
    services = _of(resources, "Service")
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
        assert hpas[name]["spec"]["minReplicas"] >= 2 and hpas[name]["spec"]["maxReplicas"] > 2
        assert any(p["spec"]["selector"]["matchLabels"].items() <= labels.items() for p in pdbs), name
        assert services[name]["spec"]["selector"].items() <= labels.items()
        pod = _pod(deployment)
        (container,) = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), (name, kind)
        assert container["args"] == ["serve"]  # migrations are the Jobs' work, never the serving pods'
        pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
        graceful = int(re.search(r"--timeout-graceful-shutdown (\d+)", _entrypoint()).group(1))
        assert pod["terminationGracePeriodSeconds"] > pre_stop + graceful
        assert pod["securityContext"]["runAsNonRoot"] and container["securityContext"]["readOnlyRootFilesystem"]


def _entrypoint() -> str:
    return (ROOT / "infra/docker/entrypoint.sh").read_text()


def test_each_database_is_migrated_by_a_job_on_the_primary(rendered: dict[str, list[Resource]]) -> None:
    resources = rendered["production"]
    jobs = _of(resources, "Job")
    deployments = _of(resources, "Deployment")
    for name in WITH_DATABASE:
        job = jobs[f"{name}-migrate"]
        (container,) = _pod(job)["containers"]
        assert container["args"] == ["migrate"] and "migrate)" in _entrypoint()
        assert container["image"] == _pod(deployments[name])["containers"][0]["image"]
        url = next(e["value"] for e in container["env"] if e["name"].endswith("DATABASE_URL"))
        assert "@cleanprod-db-rw:5432/" in url  # DDL straight to the primary, not through PgBouncer
        assert _pod(job)["restartPolicy"] == "Never" and job["spec"]["backoffLimit"] >= 1
        assert {e["name"] for e in container["env"]} == {"CP_DB_PASSWORD", f"{PARTS[name][1]}DATABASE_URL"}
        # The serving pods of a new version wait, changing nothing, until the Job has brought the schema to head.
        (init,) = _pod(deployments[name])["initContainers"]
        assert init["args"] == ["wait-for-migrations"] and "wait-for-migrations)" in _entrypoint()
        assert init["image"] == container["image"] and init["env"] == container["env"]
    assert "initContainers" not in _pod(deployments["gateway"])  # no database


def _container_env(resources: list[Resource], deployment: Resource) -> dict[str, str]:
    """The environment the container gets: envFrom first, then env (with $(VAR) expanded), as the kubelet does."""
    config_maps, secrets = _of(resources, "ConfigMap"), _of(resources, "Secret")
    (container,) = _pod(deployment)["containers"]
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(config_maps[source["configMapRef"]["name"]]["data"])
        else:
            env.update(_decoded(secrets[source["secretRef"]["name"]]))
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = re.sub(r"\$\(([A-Z0-9_]+)\)", lambda m: env[m.group(1)], variable["value"])
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            env[variable["name"]] = _decoded(secrets[ref["name"]])[ref["key"]]
    return env


def _composition_helpers(deployment: Resource) -> set[str]:
    """Variables that exist only to be composed into another one's value ($(CP_DB_PASSWORD) in the URL)."""
    (container,) = _pod(deployment)["containers"]
    used = {m for e in container.get("env", []) for m in re.findall(r"\$\(([A-Z0-9_]+)\)", e.get("value", ""))}
    return {e["name"] for e in container.get("env", []) if e["name"] in used}


@pytest.mark.parametrize("overlay", ["dev", "production"])
@pytest.mark.parametrize("name", list(PARTS))
def test_environment_names_are_settings_fields(rendered: dict[str, list[Resource]], overlay: str, name: str) -> None:
    settings_class, prefix = PARTS[name]
    deployment = _of(rendered[overlay], "Deployment")[name]
    env = _container_env(rendered[overlay], deployment)
    helpers = _composition_helpers(deployment)
    fields = set(settings_class.model_fields)
    for variable in set(env) - helpers:
        assert variable.startswith(prefix), variable
        assert variable[len(prefix) :].lower() in fields, f"{variable} is not a field of {settings_class.__name__}"
    assert helpers <= {"CP_DB_PASSWORD"}


ISSUERS = {
    "dev": "http://login.cleanprod.localtest.me/realms/cleanprod",
    "production": "https://login.cleanprod.example.vn/realms/cleanprod",
}


@pytest.mark.parametrize("overlay", ["dev", "production"])
@pytest.mark.parametrize("name", list(PARTS))
def test_each_overlay_builds_each_settings_class(
    rendered: dict[str, list[Resource]], overlay: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_class, prefix = PARTS[name]
    for variable in [v for v in os.environ if v.startswith(prefix)]:
        monkeypatch.delenv(variable)
    env = _container_env(rendered[overlay], _of(rendered[overlay], "Deployment")[name])
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    # Validators run: webhook key length, URLs, mail claim vs SMTP timeout, the portal's production secrets…
    settings = settings_class()
    assert settings.environment == ("production" if overlay == "production" else "dev")
    assert settings.oidc_issuer == ISSUERS[overlay]
    if name in WITH_DATABASE:
        assert settings.database_url.startswith("postgresql+asyncpg://")
    if name in ("registry", "applications", "verification"):
        assert settings.service_client_secret and settings.cursor_key is not None
        if overlay == "dev":
            assert settings.service_client_secret == f"dev-svc-{name}-secret"


def test_services_behind_pgbouncer_run_without_a_statement_cache(rendered: dict[str, list[Resource]]) -> None:
    resources = rendered["production"]
    (pooler,) = _of(resources, "Pooler").values()
    assert pooler["spec"]["pgbouncer"]["poolMode"] == "transaction"
    (cluster_name,) = _of(resources, "Cluster")
    assert pooler["spec"]["cluster"]["name"] == cluster_name
    through_pooler = set()
    for name in WITH_DATABASE:
        settings_class, prefix = PARTS[name]
        env = _container_env(resources, _of(resources, "Deployment")[name])
        host = re.search(r"@([^:/]+):", env[f"{prefix}DATABASE_URL"]).group(1)
        assert host in (pooler["metadata"]["name"], f"{cluster_name}-rw"), host
        if host == pooler["metadata"]["name"]:
            through_pooler.add(name)
            assert env[f"{prefix}DB_STATEMENT_CACHE_SIZE"] == "0", name
    # The portal runs its session queries on asyncpg's own cache: it goes to the primary directly.
    assert through_pooler == {"registry", "applications", "verification"}


def test_databases_roles_and_secrets_line_up(rendered: dict[str, list[Resource]]) -> None:
    resources = rendered["production"]
    (cluster,) = _of(resources, "Cluster").values()
    assert cluster["spec"]["instances"] == 3
    secrets = _of(resources, "Secret")
    owners = {d["spec"]["name"]: d["spec"]["owner"] for d in _of(resources, "Database").values()}
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    owners[initdb["database"]] = initdb["owner"]
    roles = {r["name"]: r["passwordSecret"]["name"] for r in cluster["spec"]["managed"]["roles"]}
    roles[initdb["owner"]] = initdb["secret"]["name"]
    for name in WITH_DATABASE:
        settings_class, prefix = PARTS[name]
        url = _container_env(resources, _of(resources, "Deployment")[name])[f"{prefix}DATABASE_URL"]
        user, database = re.search(r"://([^:]+):.*/([a-z_]+)$", url).groups()
        assert owners[database] == user and roles[user] in secrets
        assert secrets[roles[user]]["type"] == "kubernetes.io/basic-auth"
    keycloak = next(iter(_of(resources, "Keycloak").values()))["spec"]
    assert owners[keycloak["db"]["database"]] == "keycloak"
    assert keycloak["db"]["host"] == f"{cluster['metadata']['name']}-rw"
    assert (
        keycloak["db"]["passwordSecret"]["name"] in secrets and keycloak["bootstrapAdmin"]["user"]["secret"] in secrets
    )


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_every_referenced_secret_config_map_and_service_exists(
    rendered: dict[str, list[Resource]], overlay: str
) -> None:
    resources = rendered[overlay]
    secrets, config_maps = set(_of(resources, "Secret")), set(_of(resources, "ConfigMap"))
    text = json.dumps(resources)
    for ref in re.findall(r'"secretRef": \{"name": "([^"]+)"\}', text) + re.findall(
        r'"secretKeyRef": \{"name": "([^"]+)"', text
    ):
        assert ref in secrets, ref
    for ref in re.findall(r'"configMapRef": \{"name": "([^"]+)"\}', text):
        assert ref in config_maps, ref
    for realm_import in _of(resources, "KeycloakRealmImport").values():
        for placeholder in realm_import["spec"]["placeholders"].values():
            assert placeholder["secret"]["key"] in _decoded(_of(resources, "Secret")[placeholder["secret"]["name"]])
    # Services the operators create: <Keycloak>-service; everything else is ours.
    services = set(_of(resources, "Service")) | {f"{k}-service" for k in _of(resources, "Keycloak")}
    (ingress,) = _of(resources, "Ingress").values()
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends <= services and "gateway" in backends and not backends & {"registry", "applications"}
    for name in PARTS:  # URLs of other parts point at their Services, on the entrypoint's port
        for value in _container_env(resources, _of(resources, "Deployment")[name]).values():
            for host, port in re.findall(r"http://([a-z-]+):(\d+)", value):
                assert host in services, host
                assert port == ("8080" if host.endswith("-service") else "8000")


def _images(resources: list[Resource]) -> set[str]:
    """The images of cleanprod's own parts (Redis is the upstream image)."""
    pods = [_pod(r) for r in resources if r["kind"] in ("Deployment", "Job") and r["metadata"]["name"] != "redis"]
    return {c["image"] for pod in pods for c in pod["containers"] + pod.get("initContainers", [])}


def test_production_images_are_one_tagged_release(rendered: dict[str, list[Resource]]) -> None:
    assert _images(rendered["production"]) == {f"registry.example.vn/cleanprod/{name}:1.0.0" for name in PARTS}


def test_the_dev_overlay_runs_the_images_compose_builds(rendered: dict[str, list[Resource]]) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert _images(rendered["dev"]) == {compose["services"][name]["image"] for name in PARTS}


def test_production_secrets_are_never_committed() -> None:
    folder = K8S / "overlays/production/secrets"
    assert (folder / ".gitignore").read_text().splitlines()[-1] == "*.env"
    tracked = subprocess.run(["git", "ls-files", str(folder)], cwd=ROOT, capture_output=True, text=True, check=True)
    assert not [name for name in tracked.stdout.split() if name.endswith(".env")]
    for example in folder.glob("*.env.example"):  # no value filled in, except names and public URLs
        for line in example.read_text().splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                assert not value or name in ("username",) or value.startswith("https://"), (example.name, line)


def test_realm_imports_are_generated_from_the_realm_file() -> None:
    for path, text in k8s_realm.render().items():
        assert path.read_text(encoding="utf-8") == text, f"run `python -m infra.k8s_realm`: {path} is stale"


def test_the_production_realm_has_no_demo_users_or_password_grant(rendered: dict[str, list[Resource]]) -> None:
    production = next(iter(_of(rendered["production"], "KeycloakRealmImport").values()))["spec"]["realm"]
    dev = next(iter(_of(rendered["dev"], "KeycloakRealmImport").values()))["spec"]["realm"]
    assert not [u["username"] for u in production["users"] if "serviceAccountClientId" not in u]
    assert not [c["clientId"] for c in production["clients"] if c.get("directAccessGrantsEnabled")]
    assert production["bruteForceProtected"] is True
    realm = json.loads((ROOT / "infra/keycloak/realm-cleanprod.json").read_text())
    assert dev["users"] == realm["users"] and dev["clients"] == realm["clients"]
    assert {c["clientId"] for c in production["clients"]} >= {"cleanprod-portal", "svc-registry", "svc-gateway"}


def test_connections_fit_the_database_at_full_scale(rendered: dict[str, list[Resource]]) -> None:
    """At every HPA's maximum: PgBouncer's server pools + the portal's direct pools + Keycloak's stay within
    max_connections, with room for the operator, replication and an administrator (20)."""
    resources = rendered["production"]
    (cluster,) = _of(resources, "Cluster").values()
    (pooler,) = _of(resources, "Pooler").values()
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in _of(resources, "HorizontalPodAutoscaler").values()
    }
    pooled = ("registry", "applications", "verification")  # one database/user pair each
    pgbouncer = (
        len(pooled) * int(pooler["spec"]["pgbouncer"]["parameters"]["default_pool_size"]) * pooler["spec"]["instances"]
    )
    portal_env = _container_env(resources, _of(resources, "Deployment")["portal"])
    portal = hpas["portal"] * (int(portal_env["PORTAL_DB_POOL_SIZE"]) + int(portal_env["PORTAL_DB_MAX_OVERFLOW"]))
    keycloak = next(iter(_of(resources, "Keycloak").values()))["spec"]
    identity = keycloak["instances"] * keycloak["db"]["poolMaxSize"]
    assert pgbouncer + portal + identity + 20 <= int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    return all(
        (labels.get(e["key"]) in e["values"]) == (e["operator"] == "In") for e in selector.get("matchExpressions", [])
    )


def test_only_the_gateway_and_the_services_reach_the_services(rendered: dict[str, list[Resource]]) -> None:
    resources = rendered["production"]
    policies = list(_of(resources, "NetworkPolicy").values())
    pods = {n: d["spec"]["template"]["metadata"]["labels"] for n, d in _of(resources, "Deployment").items()}

    def allowed_from(target: str) -> set[str]:
        """The parts (and outside namespaces) whose pods may connect to `target`'s pods."""
        sources: set[str] = set()
        selecting = [p for p in policies if _selects(p["spec"]["podSelector"], pods[target])]
        assert selecting, f"no NetworkPolicy selects {target}"
        for policy in selecting:
            for rule in policy["spec"]["ingress"]:
                for peer in rule["from"]:
                    if "podSelector" in peer:
                        sources |= {n for n, labels in pods.items() if _selects(peer["podSelector"], labels)}
                    else:
                        sources.add(
                            "namespace " + peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                        )
        return sources

    for service in ("registry", "applications", "verification"):
        assert allowed_from(service) == {"gateway", "registry", "applications", "verification", "namespace monitoring"}
    assert allowed_from("gateway") == {"portal", "namespace ingress-nginx", "namespace monitoring"}
    assert allowed_from("portal") == {"namespace ingress-nginx", "namespace monitoring"}
    assert allowed_from("redis") == {"gateway"}


def test_the_gateways_share_their_rate_limit_counters_in_redis(rendered: dict[str, list[Resource]]) -> None:
    resources = rendered["production"]
    env = _container_env(resources, _of(resources, "Deployment")["gateway"])
    host, port = re.fullmatch(r"redis://([a-z-]+):(\d+)/\d+", env["GATEWAY_RATE_LIMIT_REDIS_URL"]).groups()
    service = _of(resources, "Service")[host]
    assert [p["port"] for p in service["spec"]["ports"]] == [int(port)]
    redis = _of(resources, "Deployment")[host]
    assert redis["spec"]["replicas"] == 1  # one set of counters
    applications = _container_env(resources, _of(resources, "Deployment")["applications"])
    assert applications["APPLICATIONS_DOCUMENT_STORAGE"] == "postgres"  # every replica serves every document
    assert not _of(resources, "PersistentVolumeClaim")


@pytest.mark.parametrize("name", list(PARTS))
def test_production_sets_every_key_and_secret_of_the_settings(rendered: dict[str, list[Resource]], name: str) -> None:
    """Keys and secrets have development defaults (or none): production must set each one, from a Secret."""
    settings_class, prefix = PARTS[name]
    resources = rendered["production"]
    deployment = _of(resources, "Deployment")[name]
    env = _container_env(resources, deployment)
    (container,) = _pod(deployment)["containers"]
    from_secrets = {e["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})}
    for source in container.get("envFrom", []):
        if "secretRef" in source:
            from_secrets |= set(_decoded(_of(resources, "Secret")[source["secretRef"]["name"]]))
    optional = {"webhook_secret_previous_keys", "smtp_password"}  # a key rotation; AUTH only with a user
    for field in settings_class.model_fields:
        if re.search(r"(^|_)(secret|key)$", field) and field not in optional:
            variable = f"{prefix}{field.upper()}"
            assert env.get(variable) and variable in from_secrets, f"{variable} is not set from a Secret"


@pytest.mark.parametrize("overlay", ["dev", "production"])
def test_issuer_hosts_and_public_urls_agree(rendered: dict[str, list[Resource]], overlay: str) -> None:
    """One issuer everywhere, and it is Keycloak's hostname; the portal's public URL is the realm's redirect base;
    both hosts are the Ingress's."""
    resources = rendered[overlay]
    envs = {name: _container_env(resources, _of(resources, "Deployment")[name]) for name in PARTS}
    issuers = {value for env in envs.values() for key, value in env.items() if key.endswith("OIDC_ISSUER")}
    (issuer,) = issuers
    keycloak = next(iter(_of(resources, "Keycloak").values()))["spec"]
    assert issuer == keycloak["hostname"]["hostname"] + "/realms/cleanprod"
    realm = _decoded(_of(resources, "Secret")["keycloak-clients"])
    portal_url = envs["portal"]["PORTAL_PUBLIC_BASE_URL"]
    assert realm["CLEANPROD_PORTAL_URL"] == portal_url == envs["applications"]["APPLICATIONS_PORTAL_BASE_URL"]
    (ingress,) = _of(resources, "Ingress").values()
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    assert hosts == {re.sub(r"^https?://", "", portal_url), re.sub(r"^https?://|/realms/.*$", "", issuer)}
    scheme = "https" if overlay == "production" else "http"
    assert issuer.startswith(f"{scheme}://") and portal_url.startswith(f"{scheme}://")
    assert bool(ingress["spec"].get("tls")) == (overlay == "production")
