"""Moved to :mod:`assistant.inputs` (one cleaner for every entry point); kept as an alias."""

from assistant.inputs import MSG_BLANK, MSG_TOO_LONG, InputError, Question, clean_question, strip_controls

__all__ = ["MSG_BLANK", "MSG_TOO_LONG", "InputError", "Question", "clean_question", "strip_controls"]
