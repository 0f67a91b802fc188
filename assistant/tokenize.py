"""Japanese tokenization for BM25: Sudachi SplitMode.A normalized forms, content words only.

Text first goes through :func:`assistant.normalize.normalize_text` (NFKC, era years to western
years, synonyms), so ``R4年度`` and ``2022年度`` or ``メルマガ`` and ``メールマガジン`` give the same
tokens. Particles, auxiliaries, symbols and whitespace are dropped; tokens are case-folded.
One Sudachi tokenizer per process, used under a lock (Sudachi tokenizers are not re-entrant).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from functools import lru_cache

from assistant.normalize import normalize_text

#: Bump when the token stream changes (stored in the index manifest).
TOKENIZER_VERSION = "1"
#: Part-of-speech (first level) dropped from BM25 tokens.
DROP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白"})
#: Sudachi refuses inputs above ~49k bytes; split longer texts into pieces of this many chars.
_MAX_PIECE = 4000


class SudachiTokenizer:
    """Thread-safe wrapper around one Sudachi tokenizer (SplitMode.A)."""

    def __init__(self) -> None:
        from sudachipy import Dictionary, SplitMode

        self._tok = Dictionary(dict="core").tokenizer(mode=SplitMode.A)
        self._lock = threading.Lock()

    def _pieces(self, text: str) -> Iterable[str]:
        for line in text.splitlines():
            for i in range(0, len(line), _MAX_PIECE):
                piece = line[i:i + _MAX_PIECE]
                if piece.strip():
                    yield piece

    def tokens(self, text: str, *, normalized: bool = False) -> list[str]:
        """Content-word tokens of ``text``; ``normalized=True`` skips ``normalize_text``."""
        t = text if normalized else normalize_text(text)
        out: list[str] = []
        with self._lock:
            for piece in self._pieces(t):
                for m in self._tok.tokenize(piece):
                    if m.part_of_speech()[0] in DROP_POS:
                        continue
                    form = m.normalized_form().strip().casefold()
                    if form:
                        out.append(form)
        return out


@lru_cache(maxsize=1)
def get_tokenizer() -> SudachiTokenizer:
    """The process-wide tokenizer (loading the dictionary takes ~0.2 s)."""
    return SudachiTokenizer()


@lru_cache(maxsize=1)
def tokenizer_id() -> str:
    """Identifies the token stream: our rules, SudachiPy and dictionary versions."""
    from importlib.metadata import version

    return f"sudachi-A-{TOKENIZER_VERSION}-{version('sudachipy')}-{version('sudachidict-core')}"


def tokenize(text: str) -> list[str]:
    """BM25 tokens for a query or a passage."""
    return get_tokenizer().tokens(text)


def tokenize_many(texts: Iterable[str]) -> list[list[str]]:
    tok = get_tokenizer()
    return [tok.tokens(t) for t in texts]


#: Part-of-speech (first level) of words that carry the content of a question.
CONTENT_POS = frozenset({"名詞", "接尾辞", "形状詞"})


def content_terms(text: str) -> list[str]:
    """Content words (nouns, noun suffixes, adjectival nouns) of ``text``, normalized like BM25 tokens.

    ASCII words keep their spelling (Sudachi would transliterate ``period`` to katakana).
    """
    tok = get_tokenizer()
    t = normalize_text(text)
    out: list[str] = []
    with tok._lock:
        for piece in tok._pieces(t):
            for m in tok._tok.tokenize(piece):
                surface = m.surface()
                if surface.isascii() and surface.strip().isalnum():
                    out.append(surface.strip().casefold())
                elif m.part_of_speech()[0] in CONTENT_POS:
                    form = m.normalized_form().strip().casefold()
                    if form:
                        out.append(form)
    return out


def morphemes(text: str) -> list[tuple[str, str, str]]:
    """(surface, normalized form, first-level part of speech) of each morpheme of ``text``."""
    tok = get_tokenizer()
    t = normalize_text(text)
    out: list[tuple[str, str, str]] = []
    with tok._lock:
        for piece in tok._pieces(t):
            for m in tok._tok.tokenize(piece):
                s = m.surface()
                form = s.strip().casefold() if s.isascii() else m.normalized_form().strip().casefold()
                out.append((s, form, m.part_of_speech()[0]))
    return out


def parts_of_speech(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(surface, Sudachi part of speech) of each morpheme of ``text`` as it is (no normalization:
    the surfaces join back to ``text`` without its line breaks)."""
    tok = get_tokenizer()
    out: list[tuple[str, tuple[str, ...]]] = []
    with tok._lock:
        for piece in tok._pieces(text):
            out.extend((m.surface(), tuple(m.part_of_speech())) for m in tok._tok.tokenize(piece))
    return out


def reading(text: str) -> str:
    """Katakana reading of ``text`` (Sudachi), e.g. 盛岡 -> モリオカ."""
    tok = get_tokenizer()
    with tok._lock:
        return "".join(m.reading_form() for m in tok._tok.tokenize(text))
