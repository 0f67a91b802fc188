"""Evaluation harness: run the assistant over a QA file, measure, report, gate regressions.

``eval_command`` is what ``assistant eval`` calls; the pieces are reusable on their own:
:func:`load_qa` (qa.py), :func:`run_items` (runner.py), :func:`summarize` (metrics.py),
:func:`render_markdown` (report.py) and the regression gate (gate.py).
"""

from assistant.evaluate.command import eval_command, run_pipelines
from assistant.evaluate.metrics import ItemResult, summarize
from assistant.evaluate.qa import QAItem, load_qa
from assistant.evaluate.runner import evaluate_answer, run_items

__all__ = ["ItemResult", "QAItem", "eval_command", "evaluate_answer", "load_qa", "run_items",
           "run_pipelines", "summarize"]
