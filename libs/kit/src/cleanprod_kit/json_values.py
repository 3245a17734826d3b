"""`jsonable_encoder`'s values for the plain data an event payload is made of, without its generality (issue 16).

FastAPI's encoder asks a dozen questions of every value (a model? a dataclass? an enum? a path? …) and passes
its seven options down to every key and value: for a submission's two event payloads (a dossier snapshot of
~50 fields each) that was ~3.7 % of the applications service's CPU. `jsonable` answers the types a model's
python-mode dump holds — str, int, float, bool, None, dict, list, and exactly `datetime`, `date`, `Decimal`,
`UUID` (asyncpg's too) — by the type itself, with the encoder's own conversions (ISO text, `decimal_encoder`: an int for a
whole Decimal, else a float); a pydantic model straight from its JSON mode by alias (what the encoder dumps it to,
without walking the dumped values once more); and hands every other value (an enum, a subclass, a tuple, …) to
`jsonable_encoder` itself, so its answer is the encoder's for every input (`tests/test_json_values.py`). The
outbox's payloads and the Idempotency-Key's stored answers and fingerprints use it.

Not pydantic's JSON mode: it writes datetimes with `Z` and Decimals as strings, other texts than the stored
events have always had.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from asyncpg.pgproto.pgproto import UUID as DriverUUID
from fastapi.encoders import ENCODERS_BY_TYPE, jsonable_encoder
from pydantic import BaseModel

_AS_IS: frozenset[type] = frozenset({str, int, float, bool, type(None)})
_CONVERTED: dict[type, Callable[[Any], Any]] = {
    t: ENCODERS_BY_TYPE[t] for t in (dt.datetime, dt.date, Decimal, uuid.UUID)
}
# The driver's UUID (what asyncpg reads, a subclass of UUID): the encoder finds the same `str` for it by isinstance.
_CONVERTED[DriverUUID] = ENCODERS_BY_TYPE[uuid.UUID]


def jsonable(value: Any) -> Any:
    """`jsonable_encoder(value)` with its defaults, faster for plain data (module docstring)."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        encoded = {}
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("_sa"):  # the encoder's `sqlalchemy_safe`
                continue
            encoded[key if type(key) is str else jsonable(key)] = jsonable(item)
        return encoded
    if kind is list:
        return [jsonable(item) for item in value]
    convert = _CONVERTED.get(kind)
    if convert is not None:
        return convert(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(value)
