"""Filling a table row's defaults without asking `inspect.signature` each time (issue 16).

Outside validation — SQLModel's constructor of a table model, pydantic's `model_construct` — pydantic 2.14 fills
a missing field from its `default_factory` after asking whether the factory takes the validated data, and it asks
by reading the factory's signature, on every construction (`FieldInfo.default_factory_takes_validated_data` is
not cached; for a builtin such as `list` the signature is parsed from text). A new application (six factories:
id, three JSON lists, two timestamps) spent about 0.6 ms of its construction there. A factory's signature does
not change, so the answer is kept per factory: `install()` (called by `cleanprod_kit.models`, which every
service imports) wraps pydantic's check with that memory; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic._internal import _fields

MAX_REMEMBERED = 4096  # factories are declared with their models: a few hundred at most


def remembering(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """`check(factory)`, computed once per (hashable) factory."""
    known: dict[Any, bool] = {}

    def takes_validated_data_argument(factory: Any) -> bool:
        try:
            return known[factory]
        except KeyError:
            answer = check(factory)
            if len(known) < MAX_REMEMBERED:
                known[factory] = answer
            return answer
        except TypeError:  # an unhashable callable: asked each time, as before
            return check(factory)

    takes_validated_data_argument.__wrapped__ = check  # type: ignore[attr-defined]
    return takes_validated_data_argument


def install() -> None:
    """Once per process (a second call changes nothing)."""
    current = _fields.takes_validated_data_argument
    if not hasattr(current, "__wrapped__"):
        _fields.takes_validated_data_argument = remembering(current)  # type: ignore[assignment]
