"""Worker process of ``assistant bench``: ``python -m assistant.bench.worker SPEC.json OUT.json``."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path


def main(argv: list[str]) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant.bench.runner import SizeSpec, run_size
    from assistant.config import Settings

    spec = SizeSpec(**json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    result = run_size(spec, Settings())
    Path(argv[1]).write_text(json.dumps(asdict(result), ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
