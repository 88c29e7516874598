"""Start the simulator as a real subprocess on a free port (for your DAG tests, the demo and benchmarks)."""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import sys
import time
import urllib.request
from typing import Any

_LISTENING = re.compile(r"listening on (https?://\S+)")


class SimulatorProcess:
    """A running ``python -m airflow_provider_kling.simulator`` and a tiny client for its test hooks.

    Use it in your own DAG tests::

        with SimulatorProcess("--generation-seconds", "2") as sim:
            os.environ["AIRFLOW_CONN_KLING_DEFAULT"] = json.dumps(
                {"conn_type": "kling", "host": sim.url, "password": "any-key"}
            )
            ...  # dag.test(), then sim.stats()["creates"]

    :param args: command-line options of the simulator (``--port`` is chosen for you).
    """

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airflow_provider_kling.simulator", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None:
                raise RuntimeError(f"simulator exited with {self.process.returncode}")
            match = _LISTENING.search(line)
            if match:
                return match.group(1)
        self.stop()
        raise RuntimeError("simulator did not start in time")

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        # The test hooks are on loopback; with --tls-cert the certificate is usually self-signed.
        context = ssl._create_unverified_context() if self.url.startswith("https") else None
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return json.loads(response.read())

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "/_sim/stats")

    def reset(self) -> None:
        self._call("POST", "/_sim/reset", {})

    def configure(self, **settings: Any) -> dict[str, Any]:
        return self._call("POST", "/_sim/config", settings)

    def finish_renders(self) -> int:
        """End every unfinished render now; how many there were."""
        return int(self._call("POST", "/_sim/finish", {})["finished"])

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
