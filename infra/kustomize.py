"""A small `kustomize build` for the subset infra/k8s uses, so the tests can render and check the manifests on
machines without the kustomize binary (tests/test_k8s.py). On a cluster, use the real one: `kubectl apply -k`.

Supported kustomization fields (anything else is refused, so nobody relies on a feature this does not render):
`resources` (files, or folders with a kustomization.yaml), `namespace`, `images` (newName / newTag),
`patches` (strategic-merge patch files, matched by kind + metadata.name), `configMapGenerator` and
`secretGenerator` (`literals`, `envs`, `behavior: create|merge`, `type`, `options.disableNameSuffixHash`),
`generatorOptions.disableNameSuffixHash`. Generated names get a content hash suffix, as kustomize does (not the
same hash), and references to them in pod templates are renamed (envFrom, env valueFrom, volumes).

CLI: python -m infra.kustomize infra/k8s/overlays/dev   → the rendered YAML on stdout
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

KNOWN_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "images",
    "patches",
    "configMapGenerator",
    "secretGenerator",
    "generatorOptions",
}
# Objects that live outside namespaces: `namespace` is not set on them.
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "StorageClass"}
# Keys that identify an element of a list in a strategic-merge patch (containers, env, volumes, ports…).
MERGE_KEYS = ("name", "containerPort", "port", "mountPath")

Resource = dict[str, Any]


def _key(resource: Resource) -> tuple[str, str]:
    return resource["kind"], resource["metadata"]["name"]


def load_yaml_documents(path: Path) -> list[Resource]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: '{line}' is not NAME=value")
        values[name.strip()] = value
    return values


def _builtin(resource: Resource) -> bool:
    """Kubernetes' own kinds (v1, apps/v1, networking.k8s.io/v1…), whose schemas give lists merge keys; custom
    resources have none, so kustomize patches them as JSON merge patches: lists are replaced whole."""
    group = resource["apiVersion"].rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def _merge(base: Any, patch: Any, by_key: bool = True) -> Any:
    """Strategic merge, simplified: maps merge key by key (None deletes), lists of maps merge by their
    identifying key (name, port…) when `by_key`, any other list is replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        merged = dict(base)
        for key, value in patch.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = _merge(merged[key], value, by_key)
            else:
                merged[key] = copy.deepcopy(value)
        return merged
    if (
        by_key
        and isinstance(base, list)
        and isinstance(patch, list)
        and base
        and all(isinstance(i, dict) for i in base + patch)
    ):
        merge_key = next((k for k in MERGE_KEYS if all(k in item for item in base + patch)), None)
        if merge_key is not None:
            merged_list = [copy.deepcopy(item) for item in base]
            index = {item[merge_key]: i for i, item in enumerate(merged_list)}
            for item in patch:
                if item[merge_key] in index:
                    merged_list[index[item[merge_key]]] = _merge(merged_list[index[item[merge_key]]], item, by_key)
                else:
                    merged_list.append(copy.deepcopy(item))
            return merged_list
    return copy.deepcopy(patch)


def _generated(spec: dict[str, Any], kind: str, folder: Path) -> tuple[Resource, bool]:
    unknown = set(spec) - {"name", "literals", "envs", "behavior", "type", "options"}
    if unknown:
        raise ValueError(f"{folder}: unsupported generator fields {sorted(unknown)}")
    data: dict[str, str] = {}
    for env_file in spec.get("envs", []):
        data.update(_read_env_file(folder / env_file))
    for literal in spec.get("literals", []):
        name, _, value = literal.partition("=")
        data[name] = value
    resource: Resource = {"apiVersion": "v1", "kind": kind, "metadata": {"name": spec["name"]}}
    if kind == "Secret":
        resource["type"] = spec.get("type", "Opaque")
        resource["data"] = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    else:
        resource["data"] = data
    hashed = not spec.get("options", {}).get("disableNameSuffixHash", False)
    return resource, hashed


def _content_hash(resource: Resource) -> str:
    content = json.dumps({"kind": resource["kind"], "data": resource.get("data", {})}, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()[:10]


def _pod_specs(resource: Resource) -> list[dict[str, Any]]:
    spec = resource.get("spec", {})
    if resource["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [spec["template"]["spec"]]
    if resource["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    return []


def _rename_in_container(container: dict[str, Any], renames: dict[tuple[str, str], str]) -> None:
    for source in container.get("envFrom", []):
        for ref, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if ref in source:
                source[ref]["name"] = renames.get((kind, source[ref]["name"]), source[ref]["name"])
    for variable in container.get("env", []):
        value_from = variable.get("valueFrom", {})
        for ref, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            if ref in value_from:
                value_from[ref]["name"] = renames.get((kind, value_from[ref]["name"]), value_from[ref]["name"])


def _rename_references(resources: list[Resource], renames: dict[tuple[str, str], str]) -> None:
    for resource in resources:
        for pod in _pod_specs(resource):
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                _rename_in_container(container, renames)
            for volume in pod.get("volumes", []):
                if "configMap" in volume:
                    name = volume["configMap"]["name"]
                    volume["configMap"]["name"] = renames.get(("ConfigMap", name), name)
                if "secret" in volume:
                    name = volume["secret"]["secretName"]
                    volume["secret"]["secretName"] = renames.get(("Secret", name), name)


def _split_image(reference: str) -> tuple[str, str]:
    """`registry.example.vn:5000/cleanprod/web:2.0` → (`registry.example.vn:5000/cleanprod/web`, `2.0`)."""
    name, colon, tag = reference.rpartition(":")
    if not colon or "/" in tag:  # no tag, or the colon was a registry's port
        return reference, ""
    return name, tag


def _set_images(resources: list[Resource], images: list[dict[str, str]]) -> None:
    for resource in resources:
        for pod in _pod_specs(resource):
            for container in pod.get("containers", []) + pod.get("initContainers", []):
                name, tag = _split_image(container["image"])
                for image in images:
                    if image["name"] == name:
                        name = image.get("newName", name)
                        tag = image.get("newTag", tag)
                container["image"] = f"{name}:{tag}" if tag else name


def _generate(
    kustomization: dict[str, Any], folder: Path, resources: list[Resource], hashed: dict[tuple[str, str], bool]
) -> None:
    """Add the generated ConfigMaps and Secrets (or merge them into the bases' ones of the same name)."""
    default_hashed = not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash", False)
    for field, kind in (("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")):
        for spec in kustomization.get(field, []):
            generated, own_hash = _generated(spec, kind, folder)
            existing = next((r for r in resources if _key(r) == _key(generated)), None)
            behavior = spec.get("behavior", "create")
            if behavior == "merge" and existing is not None:
                existing["data"] = {**existing.get("data", {}), **generated["data"]}
            elif behavior == "create" and existing is None:
                resources.append(generated)
                hashed[_key(generated)] = own_hash and default_hashed
            else:
                raise ValueError(f"{folder}: {kind} {spec['name']}: behavior {behavior} does not fit the bases")


def _patch(kustomization: dict[str, Any], folder: Path, resources: list[Resource]) -> None:
    for patch_entry in kustomization.get("patches", []):
        if set(patch_entry) != {"path"}:
            raise ValueError(f"{folder}: only file patches (path:) are supported")
        for patch in load_yaml_documents(folder / patch_entry["path"]):
            index = next((i for i, r in enumerate(resources) if _key(r) == _key(patch)), None)
            if index is None:
                raise ValueError(f"{folder}: patch target {_key(patch)} not found")
            resources[index] = _merge(resources[index], patch, _builtin(resources[index]))


def _build(folder: Path) -> tuple[list[Resource], dict[tuple[str, str], bool]]:
    """Resources of one kustomization (before hash suffixes), and which generated objects get one."""
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))
    unknown = set(kustomization) - KNOWN_FIELDS
    if unknown:
        raise ValueError(f"{folder}/kustomization.yaml: unsupported fields {sorted(unknown)}")
    resources: list[Resource] = []
    hashed: dict[tuple[str, str], bool] = {}
    for entry in kustomization.get("resources", []):
        path = folder / entry
        if path.is_dir():
            sub_resources, sub_hashed = _build(path)
            resources += sub_resources
            hashed |= sub_hashed
        else:
            resources += load_yaml_documents(path)
    _generate(kustomization, folder, resources, hashed)
    _patch(kustomization, folder, resources)
    _set_images(resources, kustomization.get("images", []))
    namespace = kustomization.get("namespace")
    if namespace:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource["metadata"]["namespace"] = namespace
    return resources, hashed


def build(folder: Path | str) -> list[Resource]:
    """Render the kustomization in `folder` (like `kustomize build folder`)."""
    resources, hashed = _build(Path(folder))
    renames: dict[tuple[str, str], str] = {}
    for resource in resources:
        if hashed.get(_key(resource)):
            new_name = f"{resource['metadata']['name']}-{_content_hash(resource)}"
            renames[_key(resource)] = new_name
            resource["metadata"]["name"] = new_name
    _rename_references(resources, renames)
    return resources


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    yaml.safe_dump_all(build(argv[0]), sys.stdout, sort_keys=False, allow_unicode=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
