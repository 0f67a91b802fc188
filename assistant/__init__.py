"""Japanese-first cited assistant for the 未来技術社会実装事業 documents."""

__version__ = "0.1.0"
