"""Killing a run mid-step, for the resume tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from monoculture.agents.fault_server import FaultServer


def kill_when_held(command: list[str], server: FaultServer, log: Path) -> None:
    """Start ``command`` and SIGKILL it once ``server`` holds a request (the calls before
    the held one are then all recorded), whatever the machine's load; the process is reaped
    whatever happens, and its stderr is in ``log``."""
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            while not server.wait_held(1, timeout=0.1):
                assert process.poll() is None, log.read_text()
        finally:
            process.kill()
            process.wait()
