"""``make serve-multi``'s PostgreSQL (assistant/serve_multi.py): private, persistent, reused on restart."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from assistant.feedback import FeedbackStore
from assistant.serve_multi import start_postgres
from tests.pg_server import SKIP_REASON, _free_port, pg_bin_dir

pytestmark = pytest.mark.postgres


@pytest.fixture()
def pg_dir():
    if pg_bin_dir() is None:
        pytest.skip(SKIP_REASON)
    base = Path(tempfile.mkdtemp(prefix="pg-multi-"))
    if os.geteuid() == 0:  # the server runs as postgres: it must reach its folder
        info = pwd.getpwnam("postgres")
        os.chown(base, info.pw_uid, info.pw_gid)
    yield base / "pg"
    shutil.rmtree(base, ignore_errors=True)


def test_feedback_survives_a_restart_of_the_layouts_postgres(pg_dir):
    port = _free_port()
    url, stop = start_postgres(pg_dir, port)
    try:
        assert url.startswith("postgresql+psycopg://") and f":{port}/assistant" in url
        store = FeedbackStore(url)
        row_id = store.add(vote="up", question="札幌市の予算は？", answer="…", config_hash="x")
        store.close()
    finally:
        subprocess.run(stop, capture_output=True, check=True)
    url2, stop2 = start_postgres(pg_dir, port)  # the data folder is kept: no initdb, same database
    try:
        store = FeedbackStore(url2)
        assert [(r.id, r.question) for r in store.rows()] == [(row_id, "札幌市の予算は？")]
        store.close()
    finally:
        subprocess.run(stop2, capture_output=True, check=True)
