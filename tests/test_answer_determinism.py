"""The same question gets the same answer in every process (issue 16, parts 3/4).

Each app process has its own ``PYTHONHASHSEED``; an answer that iterates a set of strings changes
with it (seen in the 2-worker load benchmark: u120's「…ではありません」list came out in two orders).
"""

from __future__ import annotations

import os
import subprocess
import sys

from assistant.config import REPO_ROOT

QUESTIONS = ["都市OSの整備に補助が出るのって国交の事業だよね？",
             "都市OSの整備に補助が出るのは国交か経産の事業ですよね？"]

SCRIPT = """
import sys
from assistant.answer.pipeline import Assistant
from assistant.config import get_settings
from tests.answer_fakes import OverlapRetriever
a = Assistant(get_settings(), retriever=OverlapRetriever())
a.warm_up()
for q in sys.argv[1:]:
    print(a.ask(q).text)
"""


def test_records_answers_do_not_depend_on_the_hash_seed():
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        out = subprocess.run([sys.executable, "-c", SCRIPT, *QUESTIONS], capture_output=True, text=True,
                             timeout=120, cwd=REPO_ROOT, env=dict(os.environ, PYTHONHASHSEED=seed), check=True)
        outputs.add(out.stdout)
    assert len(outputs) == 1, outputs
    assert "総務省" in next(iter(outputs))
