"""A throwaway PostgreSQL server for tests: Debian's binaries, a temp dir, a free loopback port.

``pg_server()`` runs ``initdb`` and ``pg_ctl start`` (as the ``postgres`` user via ``runuser``
when we are root: PostgreSQL refuses to run as root), creates a database and yields its
SQLAlchemy URL (``postgresql+psycopg://…``); the server is stopped and its folder removed on exit.
``pg_bin_dir()`` is None when the binaries are missing, so the tests can skip with a reason.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SKIP_REASON = ("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
               "(`make server-deps` installs Debian's postgresql as root)")


def pg_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and pg_ctl, or None."""
    found = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
             if (Path(d) / "initdb").exists() and (Path(d) / "pg_ctl").exists()]
    return max(found, key=lambda d: float(d.parent.name) if d.parent.name.replace(".", "").isdigit() else 0,
               default=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _runner() -> tuple[list[str], str | None]:
    """Command prefix and owner name: ``runuser -u postgres --`` when root, nothing otherwise."""
    if os.geteuid() != 0:
        return [], None
    try:
        pwd.getpwnam("postgres")
    except KeyError as err:
        raise RuntimeError("running as root but there is no 'postgres' user to run the server") from err
    return ["runuser", "-u", "postgres", "--"], "postgres"


def _chown_tree(path: Path, user: str) -> None:
    info = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, info.pw_uid, info.pw_gid)


@contextmanager
def pg_server(database: str = "assistant_test", timeout: int = 30) -> Iterator[str]:
    """Start a private server, create ``database`` and yield its SQLAlchemy URL."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise RuntimeError(SKIP_REASON)
    prefix, owner = _runner()
    tmp = Path(tempfile.mkdtemp(prefix="pg-test-"))
    data, sock, log = tmp / "data", tmp / "sock", tmp / "server.log"
    sock.mkdir()
    if owner:
        _chown_tree(tmp, owner)
        os.chmod(tmp, 0o755)
    user = owner or pwd.getpwuid(os.geteuid()).pw_name
    port = _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=timeout, cwd=tmp)

    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8",
            "--locale=C.UTF-8", "--no-sync")
        # fsync off: a test server, thrown away afterwards; the loopback port only, our socket folder.
        opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sock} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 "
                "-c timezone=Asia/Tokyo")
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", str(timeout),
            "start")
        started = True
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database)
        yield f"postgresql+psycopg://{user}@127.0.0.1:{port}/{database}"
    except subprocess.CalledProcessError as err:
        detail = (err.stderr or b"").decode(errors="replace")
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"PostgreSQL test server failed: {err.cmd[len(prefix)]}: {detail}") from err
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                            "stop"], capture_output=True, timeout=timeout, cwd=tmp)
        shutil.rmtree(tmp, ignore_errors=True)


# --- pytest fixture ---------------------------------------------------------------------------------
import pytest  # noqa: E402


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a fresh PostgreSQL database on a private loopback server (module scope)."""
    if pg_bin_dir() is None:
        pytest.skip(SKIP_REASON)
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -c constraints.txt -e .)")
    with pg_server() as url:
        yield url
