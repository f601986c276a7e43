"""A free TCP port for a child server (the embedded broker, a worker's web API).

Not one the kernel hands out for `bind(0)`: that is a port of the ephemeral
range, which the next outgoing connection of any process (a worker's own
Kafka clients, while it starts) may take as its local port. The server
started on it a second later then fails with "address already in use" and
the worker exits 1. So the port is drawn below that range, where only
servers bind, and checked free.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10_000  # below the ports that well-known local services use
_given: set[int] = set()  # handed out by this process: each once, though its server may not have bound it yet


def ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (Linux; IANA's 49152 elsewhere)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 49152


def free_port(host: str = "127.0.0.1") -> int:
    top = ephemeral_start() - 1
    if top - LOWEST >= 1000:
        for _ in range(200):
            port = random.randint(LOWEST, top)
            if port in _given:
                continue
            with socket.socket() as sock:
                try:
                    sock.bind((host, port))
                except OSError:
                    continue
            _given.add(port)
            return port
    with socket.socket() as sock:  # no room below the range: the kernel's choice, as before
        sock.bind((host, 0))
        return sock.getsockname()[1]
