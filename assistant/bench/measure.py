"""Measurement helpers: latency percentiles, memory, load and machine description."""

from __future__ import annotations

import os
import platform
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class LatencyStats:
    """Latency of ``n`` calls in milliseconds."""

    n: int
    p50: float
    p95: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, ms: list[float]) -> LatencyStats:
        if not ms:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        a = np.asarray(ms, dtype=float)
        p50, p95, p99 = (float(x) for x in np.percentile(a, [50, 95, 99]))
        return cls(len(ms), round(p50, 1), round(p95, 1), round(p99, 1), round(float(a.mean()), 1),
                   round(float(a.max()), 1))


class Timer:
    """``with Timer() as t: ...`` then ``t.s`` (seconds)."""

    def __enter__(self) -> Timer:
        self.t0 = time.perf_counter()
        self.s = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self.t0


def _status_kib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """High-water resident set size of this process (``VmHWM``: not inherited across exec)."""
    kib = _status_kib("VmHWM")
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024, 1)


def rss_mb(pid: int | None = None) -> float:
    """Current resident set size of ``pid`` (default: this process)."""
    import psutil

    return round(psutil.Process(pid or os.getpid()).memory_info().rss / 2**20, 1)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_info() -> dict[str, object]:
    """CPU model and count, memory, Python and library versions."""
    import psutil

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, object] = {
        "cpu": cpu, "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "platform": platform.platform(),
    }
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("torch", "sentence-transformers", "chromadb", "bm25s", "sudachipy"):
        try:
            info[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return info
