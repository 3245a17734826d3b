"""The package root is the service layer's entry point: every advertised name must resolve."""

import cleanprod_applications.domain as domain


def test_all_names_resolve():
    missing = [name for name in domain.__all__ if not hasattr(domain, name)]
    assert missing == []


def test_key_entry_points_are_the_module_objects():
    from cleanprod_applications.domain import grants, lifecycle, screening

    assert domain.transition is lifecycle.transition
    assert domain.screen is screening.screen
    assert domain.decision_refusal is grants.decision_refusal


# The one kit module the pure rules may use: the programme's local clock (one copy for every service), itself
# standard library only — checked below with the same rule.
PURE_KIT_MODULES = ("cleanprod_kit.local_time",)


def test_domain_imports_only_the_standard_library():
    # Pure rules: no web framework, database, HTTP client or shared kit (but its stdlib-only local clock).
    # Checked on the source so the parent package's own imports (an app factory, say) cannot hide or cause a
    # failure here.
    import ast
    import importlib
    import sys
    from pathlib import Path

    offenders = []
    sources = [
        *Path(domain.__file__).parent.glob("*.py"),
        *(Path(importlib.import_module(m).__file__) for m in PURE_KIT_MODULES),
    ]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] not in sys.stdlib_module_names and n != "__future__" and n not in PURE_KIT_MODULES
            ]
    assert offenders == []
