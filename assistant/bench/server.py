"""A throwaway ``chroma run`` server on loopback for the server-mode measurements."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ChromaServer:
    url: str
    pid: int


def chroma_cli() -> str | None:
    exe = Path(sys.executable).parent / "chroma"
    return str(exe) if exe.exists() else shutil.which("chroma")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chroma_server(data_dir: Path, timeout: float = 60.0) -> Iterator[ChromaServer]:
    """Start ``chroma run --path data_dir`` on 127.0.0.1 and stop it on exit."""
    cli = chroma_cli()
    if cli is None:
        raise RuntimeError("the chroma CLI is not installed (pip package chromadb)")
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(data_dir.parent / "chroma-server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([cli, "run", "--path", str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"chroma server did not start (see {log.name})") from None
                time.sleep(0.2)
        yield ChromaServer(f"http://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
