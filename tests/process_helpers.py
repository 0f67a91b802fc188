"""Helpers for tests that kill a child process at a chosen point (crash-safety tests)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path


def sigkill_at_marker(child: subprocess.Popen, marker: Path, timeout: float = 60, settle: float = 0.0) -> None:
    """Wait until ``child`` creates ``marker`` (its crash point), then SIGKILL it.

    Fails the test if the child exits first or never gets there; the child never outlives this call.
    """
    try:
        deadline = time.time() + timeout
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.time() < deadline, "child never reached the crash point"
            time.sleep(0.05)
        time.sleep(settle)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
