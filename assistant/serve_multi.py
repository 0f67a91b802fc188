"""The multi-process layout on one machine (issue 16, part 3): ``make serve-multi``.

Starts, and stops on Ctrl-C (or SIGTERM):

* one **Chroma server** (``chroma run``, data in ``var/multi/chroma``),
* one **PostgreSQL** for the feedback: ``ASSISTANT_FEEDBACK_URL`` when it names one, otherwise a
  private server from Debian's binaries kept in ``var/multi/pg`` on ``--pg-port``,
* the **index** for that Chroma server (``var/multi/index``; built once, ``--if-missing``),
* **N app processes** (``--apps``, default 2) on consecutive ports from ``--port``, each serving
  the UI at ``/`` and ``POST /api/ask``; put them behind a reverse proxy (README: nginx).

Each app has its own model and index handle; they share the Chroma server and the PostgreSQL.
"""

from __future__ import annotations

import argparse
import glob
import os
import pwd
import signal
import subprocess
import sys
import time
from pathlib import Path

from assistant.bench.server import chroma_cli
from assistant.config import get_settings


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 600) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{what} did not listen on {port} in time")


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise SystemExit("PostgreSQL の実行ファイルがありません（make server-deps、または ASSISTANT_FEEDBACK_URL を指定）。")
    return Path(found[-1]).parent


def start_postgres(data: Path, port: int) -> tuple[str, list[str]]:
    """A private, persistent server in ``data`` on 127.0.0.1:``port``; returns (URL, stop command)."""
    bin_dir = _pg_bin()
    prefix: list[str] = []
    user = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:  # PostgreSQL refuses root
        prefix, user = ["runuser", "-u", "postgres", "--"], "postgres"
    data.parent.mkdir(parents=True, exist_ok=True)
    if not (data / "PG_VERSION").exists():
        data.mkdir(exist_ok=True)
        if prefix:
            info = pwd.getpwnam(user)
            os.chown(data, info.pw_uid, info.pw_gid)
        subprocess.run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data}"
    subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"),
                    "-o", opts, "-w", "start"], check=True, capture_output=True)
    subprocess.run([*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user,
                    "assistant"], capture_output=True)  # exists already after the first start
    stop = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]
    return f"postgresql+psycopg://{user}@127.0.0.1:{port}/assistant", stop


def main(argv: list[str] | None = None) -> int:
    s = get_settings()
    p = argparse.ArgumentParser(prog="python -m assistant.serve_multi", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--apps", type=int, default=2, help="app processes")
    p.add_argument("--port", type=int, default=s.api_port, help="first app port")
    p.add_argument("--chroma-port", type=int, default=8000)
    p.add_argument("--pg-port", type=int, default=5433)
    p.add_argument("--dir", type=Path, default=s.var_path / "multi")
    args = p.parse_args(argv)

    base = args.dir.resolve()
    procs: list[subprocess.Popen] = []
    pg_stop: list[str] | None = None
    env = dict(os.environ, ASSISTANT_CHROMA_URL=f"http://127.0.0.1:{args.chroma_port}",
               ASSISTANT_INDEX_DIR=str(base / "index"))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    try:
        url = os.environ.get("ASSISTANT_FEEDBACK_URL", "")
        if not url.startswith("postgresql"):
            url, pg_stop = start_postgres(base / "pg", args.pg_port)
        env["ASSISTANT_FEEDBACK_URL"] = url
        cli = chroma_cli()
        if cli is None:
            raise SystemExit("chroma コマンドがありません（pip の chromadb）。")
        (base / "logs").mkdir(parents=True, exist_ok=True)
        chroma = subprocess.Popen([cli, "run", "--path", str(base / "chroma"), "--host", "127.0.0.1",
                                   "--port", str(args.chroma_port)],
                                  stdout=open(base / "logs" / "chroma.log", "ab"), stderr=subprocess.STDOUT)  # noqa: SIM115
        procs.append(chroma)
        _wait_port(args.chroma_port, chroma, "chroma")
        subprocess.run([str(Path(sys.executable).parent / "assistant"), "index", "--if-missing"], env=env, check=True)
        for i in range(args.apps):
            port = args.port + i
            log = open(base / "logs" / f"app-{port}.log", "ab")  # noqa: SIM115 - lives with the app
            procs.append(subprocess.Popen([sys.executable, "-m", "assistant.serve_api", "--with-ui", "--port",
                                           str(port), "--host", s.host], env=env, stdout=log,
                                          stderr=subprocess.STDOUT))
        for i, proc in enumerate(procs[1:]):
            _wait_port(args.port + i, proc, f"app {args.port + i}")
        ports = ", ".join(f"http://{s.host}:{args.port + i}/" for i in range(args.apps))
        print(f"起動しました: アプリ {ports}（API: /api/ask）; Chroma {env['ASSISTANT_CHROMA_URL']}; "
              f"フィードバック {url.split('@')[-1]}; ログ {base / 'logs'}。Ctrl-C で停止します。", flush=True)
        while not stopping and all(p.poll() is None for p in procs):
            time.sleep(0.5)
        dead = [p.args[0] for p in procs if p.poll() is not None]
        if dead and not stopping:
            print(f"プロセスが終了しました: {dead}（ログ {base / 'logs'}）", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if pg_stop:
            subprocess.run(pg_stop, capture_output=True)


if __name__ == "__main__":
    raise SystemExit(main())
