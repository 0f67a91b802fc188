"""Entry point of `make run`: launches the Gradio UI built by assistant.ui.create_app."""

from assistant.config import get_settings
from assistant.ui import launch

if __name__ == "__main__":
    launch(get_settings())
