"""The knowledge gaps' SQL: one `.sql` file per query, named parameters only."""

from __future__ import annotations

from functools import cache
from importlib import resources

QUERIES = ("questions", "dismissals", "tickets")


@cache
def sql(name: str) -> str:
    if name not in QUERIES:  # a name from this module's list, never a path
        raise KeyError(name)
    return (resources.files(__name__) / f"{name}.sql").read_text()
