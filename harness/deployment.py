"""What the system tests share about their one deployment: its key, its poll interval, its parts."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from airflow_provider_kling.simulator.process import SimulatorProcess
from harness.cluster import AirflowCluster

API_KEY = "sk-system-0123456789abcdef"
POLL_INTERVAL = "2"  # seconds between status checks in the example DAGs: the simulator renders in seconds


@dataclass
class Deployment:
    """The running deployment, its simulator and where videos land."""

    airflow: AirflowCluster
    simulator: SimulatorProcess
    output: Path


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As a server would bind: connections in TIME_WAIT do not count, a listener does.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
