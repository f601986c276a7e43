"""The embedded data dir from the command line's side: who holds it, whether it holds anything, how to name it.

chDB allows one process per data dir. A second demo or worker on it used to
fail with a two-line engine error; `sql` in another directory silently
created an empty `./.deskpulse` and then failed with "Unknown table".
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from streams.worker.settings import Settings


class DataDirError(Exception):
    """One line that says what is wrong with the data dir and what to do."""


def holder(settings: Settings) -> dict | None:
    """The running worker that holds this data dir's embedded ClickHouse ({pid, web, ...}), if any."""
    marker = settings.data_dir / "worker.json"
    try:
        info = json.loads(marker.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info


def require_free(settings: Settings) -> None:
    """Before starting a worker or demo on the embedded ClickHouse: nobody else may hold it."""
    if settings.clickhouse is not None:
        return
    info = holder(settings)
    if info is not None:
        raise DataDirError(f"another deskpulse (worker pid {info['pid']}, {info.get('web', '')}) holds "
                           f"{settings.data_dir.resolve()}: stop it (Ctrl-C in its terminal, or kill {info['pid']}) "
                           "or pass another --data-dir")


def require_data(settings: Settings) -> None:
    """Before a query on the embedded ClickHouse: there must be something to query."""
    if settings.clickhouse is not None:
        return
    if not (settings.data_dir / "clickhouse").is_dir():
        raise DataDirError(f"no deskpulse data in {settings.data_dir.resolve()}: run `make demo` (or "
                           f"`{command()} demo`) first, or pass --data-dir <the dir a demo or worker used>")


def command() -> str:
    """How to run `deskpulse` from any shell, as printed in hints: on PATH, else the full path."""
    here = Path(sys.executable).parent / "deskpulse"
    found = shutil.which("deskpulse")
    if found and Path(found).resolve() == here.resolve():
        return "deskpulse"
    if here.exists():
        return shlex.quote(str(here.absolute()))
    return f"{shlex.quote(sys.executable)} -m deskpulse"


def hint(settings: Settings, *args: str) -> str:
    """A command line that works as printed, from any directory."""
    return " ".join([command(), "--data-dir", shlex.quote(str(settings.data_dir.resolve())),
                     *(shlex.quote(a) for a in args)])
