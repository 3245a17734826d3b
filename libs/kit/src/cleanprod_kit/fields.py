"""Input types every request schema and text parameter uses, and the body base classes.

- `Text(...)`: strings without NUL or other control characters (PostgreSQL refuses NUL in text and JSONB; a
  line break has no place in a name). `multiline=True` allows tab and line breaks (descriptions, notes).
- `CalendarDate` / `ProgrammeDate`: dates only as the string `YYYY-MM-DD` (never a number); a programme date
  must also fall within the programme window (`PROGRAMME_EARLIEST` … ten years after today).
- `Flag`: booleans only as JSON `true` / `false` (never `0`, `1`, `"yes"`).
- `Param` / `QueryFlag`: query and path parameters — text without control characters; `true` / `false` only.
- `StrictBody`: unknown fields refused; `null` only where the field's type admits it; no string anywhere in the
  body holds NUL or a control character other than tab and line breaks (the guard for a field someone forgot).
- `PatchBody`: a partial update. Fields left out stay as they are; `null` clears a field only if the column is
  nullable — the field's type says so (`Text300 = None` cannot be cleared, `Text300 | None = None` can).

Errors carry the codes of `guard_codes` and name the field."""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from . import guard_codes
from .errors import Unprocessable, field_error

# C0 controls, DEL and C1 controls; tab, line feed and carriage return are allowed only in multiline text.
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

PROGRAMME_EARLIEST = dt.date(2000, 1, 1)
PROGRAMME_YEARS_AHEAD = 10
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def control_character_error() -> PydanticCustomError:
    return PydanticCustomError(guard_codes.CONTROL_CHARACTERS, "Text may not contain NUL or other control characters")


def _no_controls(pattern: re.Pattern[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if pattern.search(value):
            raise control_character_error()
        return value

    return check


single_line = _no_controls(_ANY_CONTROL)
multi_line = _no_controls(_CONTROL_BUT_LINES)


# The same rules as OpenAPI patterns (for clients and fuzzers): no control character and, since values are trimmed,
# at least one character that is not white space. Classes are spelled out (no `\s`): regex engines disagree on it.
_WHITE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_VISIBLE = rf"[^\x00-\x1f\x7f-\x9f{_WHITE}]"
NO_CONTROL_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"  # what guard_parameters lets through
NO_CONTROL_MULTI_LINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
SINGLE_LINE_PATTERN = rf"^[^\x00-\x1f\x7f-\x9f]*{_VISIBLE}[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE_PATTERN = rf"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*{_VISIBLE}[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


@dataclass(frozen=True)
class _DocumentedPattern:
    """Adds `pattern` to a field's JSON schema unless the field has a pattern of its own (which is stricter)."""

    pattern: str

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: GetJsonSchemaHandler) -> dict[str, Any]:
        schema = handler(core_schema)
        schema.setdefault("pattern", self.pattern)
        return schema


def Text(
    max_length: int,
    *,
    min_length: int = 1,
    multiline: bool = False,
    pattern: str | None = None,  # noqa: N802
    strip: bool = True,
) -> Any:
    """A text field or parameter: trimmed, bounded, without control characters."""
    if strip and min_length >= 1:  # trimmed, then not empty: some character must not be white space
        documented = MULTI_LINE_PATTERN if multiline else SINGLE_LINE_PATTERN
    else:
        documented = NO_CONTROL_MULTI_LINE_PATTERN if multiline else NO_CONTROL_PATTERN
    check = multi_line if multiline else single_line
    # Checked before trimming too: "abc\x85" must not pass as "abc" (NEL is white space to str.strip).
    return Annotated[
        str,
        StringConstraints(strip_whitespace=strip, min_length=min_length, max_length=max_length, pattern=pattern),
        AfterValidator(check),
        BeforeValidator(lambda v: check(v) if isinstance(v, str) else v),
        _DocumentedPattern(documented),
    ]


def programme_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or dt.date.today()
    try:
        latest = today.replace(year=today.year + PROGRAMME_YEARS_AHEAD)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + PROGRAMME_YEARS_AHEAD, day=28)
    return PROGRAMME_EARLIEST, latest


def _iso_date_only(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value  # built in Python, not from a request
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise PydanticCustomError(guard_codes.STRICT_DATE, "Send the date as a string YYYY-MM-DD")
    return value


def _within_programme(value: dt.date) -> dt.date:
    earliest, latest = programme_window()
    if not earliest <= value <= latest:
        raise PydanticCustomError(
            guard_codes.DATE_OUT_OF_RANGE,
            "The date must be between {earliest} and {latest}",
            {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )
    return value


def _bool_only(value: Any) -> Any:
    if not isinstance(value, bool):
        raise PydanticCustomError(guard_codes.STRICT_BOOLEAN, "Send true or false")
    return value


def _true_or_false(value: Any) -> Any:
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise PydanticCustomError(guard_codes.STRICT_BOOLEAN, "Send true or false")


CalendarDate = Annotated[dt.date, BeforeValidator(_iso_date_only)]
ProgrammeDate = Annotated[dt.date, BeforeValidator(_iso_date_only), AfterValidator(_within_programme)]
Flag = Annotated[bool, BeforeValidator(_bool_only)]
# Query and path parameters (strings on the wire): text without control characters, `true`/`false` only.
# Dates in parameters use `CalendarDate` like bodies.
Param = Annotated[str, AfterValidator(single_line)]
QueryFlag = Annotated[bool, BeforeValidator(_true_or_false)]


def _admits(annotation: Any, accepts: Callable[[Any], bool]) -> bool:
    """Whether `accepts` holds for the type, for what an `Annotated` wraps, or for a member of a union."""
    if accepts(annotation):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _admits(get_args(annotation)[0], accepts)
    if origin is Union or origin is types.UnionType:
        return any(_admits(arg, accepts) for arg in get_args(annotation))
    return False


def admits_none(annotation: Any) -> bool:
    """Whether a field's type accepts None (`X | None`, `Optional[X]`, `Any`, `None`)."""
    return _admits(annotation, lambda a: a is Any or a is None or a is type(None))


def admits_bool(annotation: Any) -> bool:
    """Whether a field's type accepts a JSON boolean (`bool`, `Flag`, `Any`, or a union with one of them)."""
    return _admits(annotation, lambda a: a is Any or a is bool)


def _controls_anywhere(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL_BUT_LINES.search(value) is not None
    if isinstance(value, list | tuple | set | frozenset):
        return any(_controls_anywhere(v) for v in value)
    if isinstance(value, dict):
        return any(_controls_anywhere(k) or _controls_anywhere(v) for k, v in value.items())
    return False  # nested bodies check themselves


class StrictBody(BaseModel):
    """Bodies reject unknown fields: a typo in a field name is an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_nullable(cls, value: Any, info: Any) -> Any:
        if value is None and info.field_name and not admits_none(cls.model_fields[info.field_name].annotation):
            raise PydanticCustomError(
                guard_codes.NULL_NOT_ALLOWED, "This field cannot be null; send a value (or, in a PATCH, leave it out)"
            )
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _booleans_only_where_boolean(cls, value: Any, info: Any) -> Any:
        # pydantic's lax mode reads `false` as 0 in a number field; a number field takes numbers only, as its
        # schema says.
        if (
            isinstance(value, bool)
            and info.field_name
            and not admits_bool(cls.model_fields[info.field_name].annotation)
        ):
            raise PydanticCustomError(guard_codes.STRICT_BOOLEAN, "A boolean is not a value of this field")
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if _controls_anywhere(value):
            raise control_character_error()
        return value


class PatchBody(StrictBody):
    """A partial update (PATCH): only the fields sent change (read it with `model_dump(exclude_unset=True)`).
    Declare each field with the nullability of its column: `name: Text300 = None` may be left out but not sent
    as null; `district: Place | None = None` may be cleared with null.

    `not_clearable` names the exception: columns that are empty until first given (a draft filled in step by
    step) but, once given, are never cleared with null — their column is nullable, their field is not."""

    not_clearable: ClassVar[frozenset[str]] = frozenset()


async def guard_parameters(request: Request) -> None:
    """Root guard (an app-wide dependency): no query or path parameter holds a control character, whatever type
    its route declared — PostgreSQL refuses NUL, and no identifier or search word needs one."""
    errors = [
        field_error(
            f"query.{name}", "Text may not contain NUL or other control characters", guard_codes.CONTROL_CHARACTERS
        )
        for name, value in request.query_params.multi_items()
        if _ANY_CONTROL.search(name) or _ANY_CONTROL.search(value)
    ]
    errors += [
        field_error(
            f"path.{name}", "Text may not contain NUL or other control characters", guard_codes.CONTROL_CHARACTERS
        )
        for name, value in request.path_params.items()
        if isinstance(value, str) and _ANY_CONTROL.search(value)
    ]
    if errors:
        raise Unprocessable(
            "A parameter holds NUL or another control character; remove it.",
            code=guard_codes.CONTROL_CHARACTERS,
            errors=errors,
        )
