"""Checks every service runs over its own models: request bodies use the kit's input types, and tables, their
columns and their Create/Update/Public schemas agree on which fields may be null."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterator
from enum import Enum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator
from sqlmodel import SQLModel

from .. import fields


def service_classes(package_name: str) -> list[type]:
    """Every class defined in the package or its submodules (migrations and seed data excepted)."""
    package = importlib.import_module(package_name)
    modules = [package]
    for info in pkgutil.walk_packages(package.__path__, package_name + "."):
        if ".migrations" in info.name:
            continue
        modules.append(importlib.import_module(info.name))
    seen: dict[str, type] = {}
    for module in modules:
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__.startswith(package_name):
                seen[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return list(seen.values())


def request_bodies(package_name: str) -> list[type[fields.StrictBody]]:
    return [c for c in service_classes(package_name) if issubclass(c, fields.StrictBody)]


def tables(package_name: str) -> list[type[SQLModel]]:
    return [
        c
        for c in service_classes(package_name)
        if issubclass(c, SQLModel) and getattr(c, "__table__", None) is not None
    ]


_TEXT_CHECKS = {fields.single_line, fields.multi_line}


def _validators(metadata: list[Any]) -> set[Any]:
    return {m.func for m in metadata if isinstance(m, AfterValidator | BeforeValidator)}


def _loose(annotation: Any, metadata: list[Any], where: str) -> Iterator[str]:
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        yield from _loose(base, [*metadata, *extra], where)
        return
    if origin is Union or origin is types.UnionType or origin in (list, tuple, set, frozenset, dict):
        for arg in get_args(annotation):
            yield from _loose(arg, [], where)
        return
    if origin is Literal or annotation is type(None) or annotation is Ellipsis:
        return
    checks = _validators(metadata)
    if annotation is bool and not checks & {fields._bool_only, fields._true_or_false}:
        yield f"{where}: bool (use Flag, or QueryFlag for a parameter)"
    elif annotation is dt.date and fields._iso_date_only not in checks:
        yield f"{where}: date (use ProgrammeDate or CalendarDate)"
    elif annotation is str and not checks & _TEXT_CHECKS:
        yield f"{where}: str (use Text(...), or Param for a parameter)"
    elif inspect.isclass(annotation) and issubclass(annotation, Enum):
        return


def loose_fields(model: type[BaseModel]) -> list[str]:
    """Fields of a request body typed with plain `str`, `bool` or `date` instead of the kit's input types."""
    found: list[str] = []
    for name, info in model.model_fields.items():
        found.extend(_loose(info.annotation, list(info.metadata), f"{model.__qualname__}.{name}"))
    return found


def nullability_mismatches(table: type[SQLModel], *schemas: type[BaseModel]) -> list[str]:
    """Where a table's fields, its columns and the given schemas disagree on null.

    The table's annotation must match its column (primary keys and database-computed columns aside). An Update
    schema field admits None exactly when its column is nullable (null clears it; elsewhere null is refused) —
    except the fields it names `not_clearable` (empty until first given, never cleared); a
    Create (or other request) schema may not admit None for a column that cannot hold it (a default is how a
    field becomes optional there); a Public schema must admit None wherever the column may hold it (or reading
    such a row fails) — it may show None for a value it derives, e.g. "no next attempt" once delivered."""
    found: list[str] = []
    columns = table.__table__.columns  # type: ignore[attr-defined]
    for name, info in table.model_fields.items():
        column = columns.get(name)
        if column is None or column.primary_key or column.computed is not None or column.server_default is not None:
            continue
        if fields.admits_none(info.annotation) != column.nullable:
            found.append(f"{table.__name__}.{name}: annotation vs column nullable={column.nullable}")
    for schema in schemas:
        for name, info in schema.model_fields.items():
            column = columns.get(name)
            if column is None:
                continue
            admits = fields.admits_none(info.annotation)
            if issubclass(schema, fields.PatchBody):
                filled_in_steps = column.nullable and not admits and name in schema.not_clearable
                wrong = admits != column.nullable and not filled_in_steps
            elif issubclass(schema, fields.StrictBody):
                wrong = admits and not column.nullable
            else:
                wrong = column.nullable and not admits
            if wrong:
                found.append(f"{schema.__name__}.{name}: admits null={admits}, column nullable={column.nullable}")
    return found


def contract_problems(package_name: str, also: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """Everything the checks above find in one service. Each table is compared with the schemas named after it
    (`<Table>Create`, `<Table>Update`, `<Table>Public`) and with those `also` names for it."""
    classes = service_classes(package_name)
    models = {c.__name__: c for c in classes if issubclass(c, BaseModel)}
    found = [f for body in request_bodies(package_name) for f in loose_fields(body)]
    found += [
        f"{name}: a partial update must be a PatchBody"
        for name, cls in models.items()
        if name.endswith("Update") and not issubclass(cls, fields.PatchBody)
    ]
    for table in tables(package_name):
        names = [table.__name__ + suffix for suffix in ("Create", "Update", "Public")]
        names += list((also or {}).get(table.__name__, ()))
        found += nullability_mismatches(table, *(models[n] for n in names if n in models))
    return found


def loose_parameters(app: Any) -> list[str]:
    """Query and path parameters of the app's routes typed with plain `str`, `bool` or `date` (use `Param`,
    `QueryFlag`, `CalendarDate`)."""
    from fastapi.routing import APIRoute, iter_route_contexts

    def parameters(dependant: Any) -> Iterator[Any]:
        yield from dependant.query_params
        yield from dependant.path_params
        for sub in dependant.dependencies:
            yield from parameters(sub)

    found: list[str] = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for param in parameters(route.dependant):
                info = param.field_info
                found.extend(_loose(info.annotation, list(info.metadata), f"{route.path_format} {param.name}"))
    return sorted(set(found))
