"""ClickHouse failures, classified: retry the transient ones, isolate the rows behind the deterministic ones.

Model: clickhouse-connect's `driver/exceptions.py`. A deterministic error
fails the same way however often it is retried (a value that does not fit
its column, a row the server cannot parse): retrying it forever stopped
the pipeline (issue 10, finding 7). Everything else (connection, timeouts,
memory, too many parts, ...) is transient and retried with backoff.
"""

from __future__ import annotations

import re
import struct

from clickhouse_connect.driver.exceptions import DatabaseError, DataError, OperationalError

# Server error codes that depend on the data, not on the server's state.
DETERMINISTIC_CODES = frozenset({
    6,    # CANNOT_PARSE_TEXT
    26,   # CANNOT_PARSE_QUOTED_STRING
    27,   # CANNOT_PARSE_INPUT_ASSERTION_FAILED
    38,   # CANNOT_PARSE_DATE
    41,   # CANNOT_PARSE_DATETIME
    53,   # TYPE_MISMATCH
    69,   # ARGUMENT_OUT_OF_BOUND
    70,   # CANNOT_CONVERT_TYPE
    72,   # CANNOT_PARSE_NUMBER
    117,  # INCORRECT_DATA
    131,  # TOO_LARGE_STRING_SIZE
    321,  # VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    349,  # CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
})
_CODE = re.compile(r"Code: (\d+)\.")


def server_code(exc: BaseException) -> int | None:
    match = _CODE.search(str(exc))
    return int(match[1]) if match else None


def is_deterministic(exc: BaseException) -> bool:
    """True when the same rows would fail the same way again."""
    if isinstance(exc, OperationalError):
        return False
    if isinstance(exc, (DataError, ValueError, TypeError, OverflowError, struct.error)):
        return True  # the client could not encode a value for its column
    return isinstance(exc, DatabaseError) and server_code(exc) in DETERMINISTIC_CODES


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:500]
