"""deskpulse/ports.py: ports for child servers."""

from __future__ import annotations

import socket

from deskpulse.ports import LOWEST, ephemeral_start, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_given_once():
    """A port from bind(0) is also what the next outgoing connection may take as its local port: a worker's web
    server started on it then failed to bind (deskpulse/ports.py)."""
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(LOWEST <= p < ephemeral_start() for p in ports)
    for port in ports[:20]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free, as promised
