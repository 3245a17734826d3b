"""infra/kustomize.py renders the manifests for tests/test_k8s.py; these pin the kustomize behaviour it relies on
(generators with content-hashed names and renamed references, merges into bases, strategic merge of pod specs,
JSON-merge of custom resources, images) and that anything outside its subset is refused, not ignored."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from infra.kustomize import build

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "cleanprod/web",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "envFrom": [{"configMapRef": {"name": "web-config"}}, {"secretRef": {"name": "web-secrets"}}],
                    }
                ]
            }
        }
    },
}
CUSTOM = {
    "apiVersion": "example.org/v1",
    "kind": "Thing",
    "metadata": {"name": "t"},
    "spec": {"items": [{"name": "x"}]},
}


def _write(folder: Path, files: dict[str, object]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        text = (
            content
            if isinstance(content, str)
            else yaml.safe_dump_all(content if isinstance(content, list) else [content])
        )
        (folder / name).write_text(text)
    return folder


def _tree(tmp_path: Path, config_value: str = "1") -> Path:
    _write(
        tmp_path / "base",
        {
            "kustomization.yaml": {
                "resources": ["app.yaml"],
                "configMapGenerator": [{"name": "web-config", "literals": [f"X={config_value}"]}],
            },
            "app.yaml": [DEPLOYMENT, CUSTOM],
        },
    )
    return _write(
        tmp_path / "overlay",
        {
            "kustomization.yaml": {
                "namespace": "ns",
                "resources": ["../base"],
                "images": [{"name": "cleanprod/web", "newName": "registry.example.vn/web", "newTag": "2.0"}],
                "patches": [{"path": "patch.yaml"}],
                "configMapGenerator": [{"name": "web-config", "behavior": "merge", "envs": ["extra.env"]}],
                "secretGenerator": [{"name": "web-secrets", "literals": ["S=sécret"]}],
            },
            "extra.env": "# a comment\nY=Hà Nội\n",
            "patch.yaml": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "metadata": {"name": "web"},
                    "spec": {
                        "template": {"spec": {"containers": [{"name": "web", "env": [{"name": "B", "value": "3"}]}]}}
                    },
                },
                {
                    "apiVersion": "example.org/v1",
                    "kind": "Thing",
                    "metadata": {"name": "t"},
                    "spec": {"items": [{"name": "y"}]},
                },
            ],
        },
    )


def test_render_generators_patches_images_namespace(tmp_path: Path) -> None:
    resources = {r["kind"]: r for r in build(_tree(tmp_path))}
    config, secret = resources["ConfigMap"], resources["Secret"]
    assert config["data"] == {"X": "1", "Y": "Hà Nội"} and config["metadata"]["name"].startswith("web-config-")
    assert base64.b64decode(secret["data"]["S"]).decode() == "sécret"
    container = resources["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    assert container["envFrom"] == [
        {"configMapRef": {"name": config["metadata"]["name"]}},
        {"secretRef": {"name": secret["metadata"]["name"]}},
    ]
    assert container["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}]  # merged by name
    assert container["image"] == "registry.example.vn/web:2.0"
    assert resources["Thing"]["spec"]["items"] == [{"name": "y"}]  # custom resource: list replaced
    assert {r["metadata"]["namespace"] for r in resources.values()} == {"ns"}


def test_a_changed_value_renames_the_generated_object(tmp_path: Path) -> None:
    first = next(r for r in build(_tree(tmp_path / "a")) if r["kind"] == "ConfigMap")["metadata"]["name"]
    second = next(r for r in build(_tree(tmp_path / "b", "2")) if r["kind"] == "ConfigMap")["metadata"]["name"]
    assert first != second


def test_unsupported_fields_and_missing_targets_are_refused(tmp_path: Path) -> None:
    overlay = _tree(tmp_path)
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({**kustomization, "replacements": []}))
    with pytest.raises(ValueError, match="unsupported fields"):
        build(overlay)
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    (overlay / "patch.yaml").write_text(yaml.safe_dump({**CUSTOM, "metadata": {"name": "other"}}))
    with pytest.raises(ValueError, match="not found"):
        build(overlay)


def test_image_references_with_a_registry_port(tmp_path: Path) -> None:
    overlay = _tree(tmp_path)
    (tmp_path / "base" / "app.yaml").write_text(
        yaml.safe_dump_all([_with_image(DEPLOYMENT, "registry.local:5000/cleanprod/web:1.0"), CUSTOM])
    )
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    kustomization["images"] = [{"name": "registry.local:5000/cleanprod/web", "newTag": "2.0"}]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    (resource,) = [r for r in build(overlay) if r["kind"] == "Deployment"]
    assert resource["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local:5000/cleanprod/web:2.0"


def _with_image(deployment: dict, image: str) -> dict:
    copy = yaml.safe_load(yaml.safe_dump(deployment))
    copy["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return copy
