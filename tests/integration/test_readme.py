"""The README's quickstart, run exactly as written (copied out of README.md), so it cannot drift (issue 11).

Only the data dir is moved (DESKPULSE_DATA_DIR), so the test never touches
a developer's own `.deskpulse/`. `make test` itself is what CI runs; here it
is only resolved (`make -n`), not run inside itself.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import pytest

from tests.support.cli import ROOT


def _quickstart_blocks() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [[line.split("  #")[0].strip() for line in block.splitlines() if line.strip()] for block in blocks]


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "deskpulse").exists(), reason="`make test` creates .venv")
def test_the_quickstart_works_as_written(tmp_path):
    setup, while_it_runs = _quickstart_blocks()
    assert setup == ["make demo", "make test"]
    assert subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True).returncode == 0
    env = {**os.environ, "DESKPULSE_DATA_DIR": str(tmp_path / "data")}
    demo = subprocess.Popen(setup[0], shell=True, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(demo.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while not any(re.match(r"live\s+~", line) for line in lines):  # the live phase began
            assert demo.poll() is None, "".join(lines)
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.5)
        printed = "".join(lines)
        assert "dashboard   http://127.0.0.1:" in printed and "history     " in printed
        for command in while_it_runs:
            result = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                                    timeout=120)
            assert result.returncode == 0, (command, result.stderr)
            assert re.search(r"\((\d+) rows?\)", result.stdout) and "(0 rows)" not in result.stdout, \
                (command, result.stdout)
        # the hint the demo printed works as printed, from another directory
        hint = next(line for line in lines if line.startswith("query ")).split(None, 1)[1].strip()
        result = subprocess.run(hint, shell=True, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and "(1 row)" in result.stdout, (hint, result.stderr)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C, as the README says
        code = demo.wait(60)
        reader.join(10)
    # make itself dies of the SIGINT it got too (as in a terminal); the demo under it stopped cleanly
    assert code in (0, -signal.SIGINT), "".join(lines)
    out = "".join(lines)
    assert "processed " in out and "rows        " in out and "Traceback" not in out and "exited with code" not in out
