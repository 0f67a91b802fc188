"""Gradio UI: ``create_app(settings)`` builds it, ``launch(settings)`` serves it (see ``app.py``)."""

from assistant.ui.app import check_bind, create_app, launch

__all__ = ["check_bind", "create_app", "launch"]
