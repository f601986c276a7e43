"""Running the real CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def deskpulse(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess."""
    result = subprocess.run([sys.executable, "-m", "deskpulse", *args], capture_output=True, text=True,
                            timeout=timeout, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    if check and result.returncode != 0:
        raise AssertionError(f"deskpulse {' '.join(args[:3])}... exited {result.returncode}: {result.stderr.strip()}")
    return result
