"""`deskpulse bench --faust-agent`: a Faust agent consuming the same records as the ceiling, in the same run.

The measurement behind docs/decisions/0001: per-record dispatch through a
Faust agent (conductor, per-agent queue, stream iteration), with the same
per-record work as the ceiling (json.loads), against a bare aiokafka
`getmany` loop. The agent runs in a real `faust.Worker` in a child process
(`python -m deskpulse.bench_faust`), which writes its rate to a file and
stops itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path


def agent_rate(broker_url: str, topics: list[str], n: int, workdir: Path, timeout: float = 600) -> float:
    """Run the agent in a child process until it has seen n records; events/s from its first to its n-th."""
    out = workdir / f"faust-agent-{uuid.uuid4().hex[:6]}.json"
    args = [sys.executable, "-m", "deskpulse.bench_faust", broker_url, str(n), str(out), str(workdir), *topics]
    with open(workdir / "faust-agent.log", "ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        log = workdir / 'faust-agent.log'
        raise RuntimeError(f"the Faust agent did not finish in {timeout:.0f}s; see {log}") from None
    if not out.exists():
        raise RuntimeError(f"the Faust agent exited without a result; see {workdir / 'faust-agent.log'}")
    return float(json.loads(out.read_text())["rate"])


def _main(broker_url: str, n: int, out: str, workdir: str, *topics: str) -> None:
    import faust

    app = faust.App(f"bench-faust-{uuid.uuid4().hex[:8]}", broker=broker_url, web_enabled=False,
                    datadir=str(Path(workdir) / "faust-agent"), consumer_auto_offset_reset="earliest",
                    topic_disable_leader=True, broker_rebalance_timeout=4, broker_session_timeout=6)
    source = app.topic(*topics, value_serializer="raw", key_serializer="raw")
    seen = {"n": 0, "first": 0.0}

    @app.agent(source)
    async def count(stream):
        async for value in stream:
            json.loads(value)
            if seen["n"] == 0:
                seen["first"] = time.perf_counter()
            seen["n"] += 1
            if seen["n"] == n:
                rate = n / (time.perf_counter() - seen["first"])
                Path(out).write_text(json.dumps({"rate": rate}))
                os.kill(os.getpid(), signal.SIGTERM)

    faust.Worker(app, loglevel="warn", quiet=True, redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    _main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], *sys.argv[5:])
