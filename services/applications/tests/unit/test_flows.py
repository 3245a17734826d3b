"""One owner per rule: every arrow of the lifecycle is taken by one function of `applications/flows.py`, and no
other module of the service moves an application's status."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import cleanprod_applications
from cleanprod_applications.applications import flows
from cleanprod_applications.domain.lifecycle import ROLE_ACTIONS, TRANSITIONS, Action, Role
from cleanprod_kit.roles import Role as KitRole

PACKAGE = Path(cleanprod_applications.__file__).parent
FLOWS_FILE = Path(flows.__file__)
TRANSITION_CALLS = {"apply_transition", "ensure_legal", "transition"}


def test_every_action_of_the_lifecycle_has_its_flow() -> None:
    assert set(flows.FLOWS) == set(Action)
    assert {action for _, action in TRANSITIONS} == set(Action)  # and every action is an arrow somewhere
    for action, flow in flows.FLOWS.items():
        assert inspect.iscoroutinefunction(flow), action
        assert flow.__module__ == flows.__name__, f"{action} is taken outside flows.py: {flow.__module__}"
        assert flow.__doc__, f"the flow of {action} says which arrow it takes"


def test_each_flow_is_an_entry_point_not_a_helper() -> None:
    public = {
        name
        for name, value in vars(flows).items()
        if inspect.iscoroutinefunction(value) and value.__module__ == flows.__name__ and not name.startswith("_")
    }
    helpers = {"apply_transition", "allocate_dossier_code"}  # the shared steps the flows are written with
    assert public - helpers == {flow.__name__ for flow in flows.FLOWS.values()}


def _violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            if name in TRANSITION_CALLS:
                found.append(f"{path.name}:{node.lineno} calls {name}")
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign | ast.AugAssign)
            else []
        )
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "status"
                and isinstance(target.value, ast.Name)
                and "application" in target.value.id
            ):
                found.append(f"{path.name}:{node.lineno} sets {target.value.id}.status")
    return found


def test_no_module_but_flows_moves_an_application() -> None:
    outside = [
        v
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != FLOWS_FILE and "domain" not in path.relative_to(PACKAGE).parts
        for v in _violations(path)
    ]
    assert outside == []
    assert _violations(FLOWS_FILE)  # the check finds what it looks for


def test_the_lifecycles_roles_are_the_programmes() -> None:
    # The domain names roles itself (it imports no kit); they must be the kit's, value for value.
    assert {str(role) for role in Role} <= {str(role) for role in KitRole}
    assert set(ROLE_ACTIONS) == set(Role)
    assert {str(role) for role in KitRole} - {str(role) for role in Role} == {"finance"}  # takes no lifecycle action


def test_routes_take_what_they_need_from_deps_not_from_app_state() -> None:
    readers = sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("views.py")
        if "app.state" in path.read_text(encoding="utf-8")
    )
    assert readers == []
    assert "app.state" in (PACKAGE / "deps.py").read_text(encoding="utf-8")  # where they come from instead
