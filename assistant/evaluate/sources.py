"""Re-export of :mod:`assistant.source_files` (source reading lives below answerers and evaluator)."""

from assistant.source_files import PLAIN_SUFFIXES, RecordRows, SourceTexts

__all__ = ["PLAIN_SUFFIXES", "RecordRows", "SourceTexts"]
