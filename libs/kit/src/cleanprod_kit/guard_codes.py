"""Machine codes of the input-hardening problems (field errors' `code` and whole-request problems' `code`).

Kept in one place so the project's error-code catalogue (with its translations) can list them."""

from __future__ import annotations

CONTROL_CHARACTERS = "control_characters"  # a string holds NUL or another control character
NULL_NOT_ALLOWED = "null_not_allowed"  # `null` sent for a field that cannot be empty
INVALID_CURSOR = "invalid_cursor"  # a `cursor` this API did not issue (tampered, forged, other list)
STRICT_DATE = "strict_date"  # a date not written as the string YYYY-MM-DD
DATE_OUT_OF_RANGE = "date_out_of_range"  # a programme date outside the programme window
STRICT_BOOLEAN = "strict_boolean"  # a boolean not written as true/false
PAYLOAD_TOO_LARGE = "payload_too_large"  # a request body over the size limit, however it is framed
DATABASE_UNAVAILABLE = "database_unavailable"  # the service cannot reach its database: retry later
VALUE_NOT_STORABLE = "value_not_storable"  # the database refused a value the schema let through (SQLSTATE 22)
CONCURRENT_WRITE = "concurrent_write"  # a deadlock or serialization failure: another write won; retry
