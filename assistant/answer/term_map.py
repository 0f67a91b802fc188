"""Map a word the documents never use to the documents' word for the same thing.

「窓口は？」 when the documents say 問合せ先, 「感想は？」 when they say 声. In order:

1. **Segmentation**: Sudachi sometimes cuts a compound so that one piece is unknown
   (自治体側 -> 自治 / 体側); when the text re-reads as known words plus a one-character suffix
   (自治体 + 側), the known words are used.
2. **Clipped katakana** (シンポ, アンケ, マイナ): a katakana word that begins exactly one longer
   katakana word of the documents (or the most frequent of several) stands for it.
3. **Related-words table** ``assistant/data/related_terms.tsv`` (linguistic knowledge as data): the
   first related word that the documents use.
4. **Embedding nearest neighbour**: the retriever's embedding model (e5: prefix ``query: ``) over the
   corpus vocabulary; the nearest term counts when its cosine similarity is at least
   :data:`SIM_MIN` *and* stands out from the word's similarity to the whole vocabulary by
   :data:`Z_MIN` standard deviations. Both were calibrated on made-up word pairs
   (``assistant/data/term_map_calibration.tsv``; none from the QA sets): at these values no
   unrelated word maps, at the cost of recall — the table carries the rest. Single characters and
   words that contain the question's word, or are contained in it (構成員 / 構成), are never targets.

The vocabulary's vectors are computed once per corpus and model (cached on disk when a folder is
given); a question embeds only its own unknown words.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from assistant.normalize import nfkc

log = logging.getLogger(__name__)

#: Calibrated on assistant/data/term_map_calibration.tsv (multilingual-e5-small, query prefix).
SIM_MIN = 0.93
Z_MIN = 5.25
#: A vocabulary larger than this keeps its most frequent terms as embedding targets.
MAX_VOCABULARY = 20_000

_KATAKANA_RUN = re.compile(r"[ァ-ヶー]{2,}")


@dataclass(frozen=True)
class Mapping:
    source: str  # the question's word (surface)
    target: str  # the documents' word (surface form to put in the question)
    how: str  # clipped | table | embedding
    score: float = 1.0
    alternatives: tuple[str, ...] = ()  # other corpus words for the same thing (table order)


@lru_cache(maxsize=1)
def related_table() -> dict[str, tuple[str, ...]]:
    """word -> related words, from ``assistant/data/related_terms.tsv`` (NFKC, case-folded keys)."""
    raw = resources.files("assistant").joinpath("data/related_terms.tsv").read_text(encoding="utf-8")
    out: dict[str, tuple[str, ...]] = {}
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rel = line.partition("\t")
        key = nfkc(word.strip()).casefold()
        out[key] = out.get(key, ()) + tuple(nfkc(r.strip()) for r in rel.split(",") if r.strip())
    return out


class TermMap:
    """``known(term)`` tells whether a (normalized) term occurs in the corpus; ``tokens`` gives the
    content terms of a text; ``vocabulary`` are the candidate targets (normalized terms) with their
    document frequency; ``embed(texts) -> (n, d) unit vectors`` (None: no embedding step)."""

    def __init__(self, known: Callable[[str], bool], tokens: Callable[[str], list[str]],
                 vocabulary: Counter[str] | None = None, katakana: Counter[str] | None = None,
                 embed: Callable[[list[str]], np.ndarray] | None = None,
                 vectors: np.ndarray | None = None, sim_min: float = SIM_MIN, z_min: float = Z_MIN,
                 wait_s: float = 120.0) -> None:
        self.known = known
        self.tokens = tokens
        self.katakana = katakana or Counter()
        self.embed = embed
        self.sim_min = sim_min
        self.z_min = z_min
        vocab = vocabulary or Counter()
        self.targets = [t for t, _ in vocab.most_common() if _target_ok(t)][:MAX_VOCABULARY]
        self._vectors = vectors
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._wait_s = wait_s  # how long the first question waits for the vocabulary's vectors
        self._cache: dict[str, Mapping | None] = {}
        self.compounds: frozenset[str] = frozenset()

    # -- building ----------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: Iterable[str], tokens: Callable[[str], list[str]],
                   embed: Callable[[list[str]], np.ndarray] | None = None,
                   cache_file: Path | None = None, **kw) -> TermMap:
        from assistant.answer.relevance import pos_morphemes

        df: Counter[str] = Counter()
        kata: Counter[str] = Counter()
        compounds: set[str] = set()
        for t in texts:
            ms = pos_morphemes(t)
            df.update(set(tokens(t)))
            kata.update(set(_KATAKANA_RUN.findall(nfkc(t))))
            compounds.update(_noun_spans(ms))
        tm = cls(lambda x: df.get(x, 0) > 0, tokens, df, kata, embed, **kw)
        tm._cache_file = cache_file
        tm.compounds = frozenset(compounds)
        return tm

    def start_vectors(self) -> None:
        """Compute (or load) the vocabulary's vectors in a background thread."""
        if self.embed is None or not self.targets or self._vectors is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._compute_vectors, name="term-vectors", daemon=True)
                self._thread.start()

    def _compute_vectors(self) -> None:
        try:
            self._vectors = self._load_or_embed()
        except Exception as err:  # noqa: BLE001 - mapping without the embedding beats failing
            log.warning("term vectors unavailable (%s): words are mapped by the table only", err)
        finally:
            self._ready.set()

    @property
    def vectors(self) -> np.ndarray | None:
        """Vectors of :attr:`targets`, computed once. The first caller waits for them up to
        :attr:`wait_s` seconds (a small corpus: about a second, or read from the cache); later
        callers do not wait, so a very large vocabulary never holds questions up."""
        if self.embed is None or not self.targets:
            return None
        if self._vectors is None:
            self.start_vectors()
            with self._lock:
                timeout, self._wait_s = self._wait_s, 0.0
            self._ready.wait(timeout)
        return self._vectors

    def _load_or_embed(self) -> np.ndarray:
        path: Path | None = getattr(self, "_cache_file", None)
        have: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as z:
                    have = dict(zip(z["terms"].tolist(), z["vectors"], strict=True))
            except (OSError, ValueError, KeyError) as err:
                log.warning("term vector cache %s unreadable (%s); recomputing", path, err)
        todo = [t for t in self.targets if t not in have]
        if todo:
            vecs = np.asarray(self.embed(todo), dtype=np.float32)
            have.update(zip(todo, vecs, strict=True))
            if path is not None:
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    tmp = path.with_suffix(".tmp.npz")
                    terms = list(have)
                    np.savez(tmp, terms=np.array(terms), vectors=np.stack([have[t] for t in terms]))
                    tmp.replace(path)
                except OSError as err:
                    log.warning("could not write term vector cache %s: %s", path, err)
        return np.stack([have[t] for t in self.targets]).astype(np.float32)

    # -- mapping -----------------------------------------------------------------------------
    def usable(self, target: str) -> bool:
        toks = self.tokens(target)
        return bool(toks) and all(self.known(t) for t in toks)

    def clipped(self, surface: str) -> str | None:
        """シンポ -> シンポジウム: the corpus katakana word this one begins (most frequent)."""
        s = nfkc(surface)
        if not re.fullmatch(r"[ァ-ヶー]{3,}", s):
            return None
        longer = [(n, w) for w, n in self.katakana.items() if w.startswith(s) and len(w) >= len(s) + 2]
        if not longer:
            return None
        longer.sort(key=lambda x: (-x[0], len(x[1]), x[1]))
        return longer[0][1]

    def from_table(self, surface: str, form: str) -> list[str]:
        """The related words of the table that the corpus uses, in table order."""
        table = related_table()
        out: list[str] = []
        for key in (nfkc(surface).casefold(), form):
            for rel in table.get(key, ()):
                if rel not in out and self.usable(rel):
                    out.append(rel)
        return out

    def is_compound(self, text: str) -> bool:
        """Whether ``text`` is a run of nouns of the corpus (or part of one): 自治体, 事業者…"""
        return nfkc(text) in self.compounds

    def nearest(self, words: Sequence[str]) -> dict[str, tuple[str, float, float]]:
        """word -> (nearest corpus term, cosine, z) for those that pass both thresholds."""
        vecs = self.vectors
        if vecs is None or not words:
            return {}
        q = np.asarray(self.embed(list(words)), dtype=np.float32)
        sims = q @ vecs.T
        out = {}
        for w, s in zip(words, sims, strict=True):
            mu, sd = float(s.mean()), float(s.std()) or 1.0
            for i in np.argsort(-s)[:20]:
                t = self.targets[i]
                if t in w or w in t:
                    continue
                sim, z = float(s[i]), (float(s[i]) - mu) / sd
                if sim >= self.sim_min and z >= self.z_min:
                    out[w] = (t, sim, z)
                break
        return out

    def map(self, words: Sequence[tuple[str, str]]) -> dict[str, Mapping]:
        """(surface, normalized form) of unknown words -> their mapping, for those that map."""
        out: dict[str, Mapping] = {}
        todo: list[tuple[str, str]] = []
        for surface, form in words:
            with self._lock:
                if surface in self._cache:
                    hit = self._cache[surface]
                    if hit is not None:
                        out[surface] = hit
                    continue
            m = None
            if (c := self.clipped(surface)) is not None:
                m = Mapping(surface, c, "clipped")
            elif r := self.from_table(surface, form):
                m = Mapping(surface, r[0], "table", alternatives=tuple(r[1:]))
            if m is not None:
                out[surface] = m
                with self._lock:
                    self._cache[surface] = m
            else:
                todo.append((surface, form))
        if todo:
            near = self.nearest([f for _, f in todo])
            for surface, form in todo:
                n = near.get(form)
                m = Mapping(surface, n[0], "embedding", n[1]) if n else None
                if m is not None:
                    out[surface] = m
                with self._lock:
                    if len(self._cache) > 20_000:
                        self._cache.clear()
                    self._cache[surface] = m
        return out


def _noun_spans(ms, longest: int = 4) -> set[str]:
    """Surfaces of every run of 1..``longest`` consecutive nouns/suffixes (自治 体 -> 自治体)."""
    out: set[str] = set()
    run: list[str] = []
    for m in [*ms, None]:
        if m is not None and m.head in ("名詞", "接尾辞", "接頭辞"):
            run.append(nfkc(m.surface))
            continue
        for i in range(len(run)):
            for j in range(i + 2, min(len(run), i + longest) + 1):
                out.add("".join(run[i:j]))
        run = []
    return out


def _target_ok(term: str) -> bool:
    """A term worth mapping to: two characters or more, not a number, not ASCII."""
    return len(term) >= 2 and not term.isascii() and not re.fullmatch(r"[0-9.,]+", term)


def cache_path(folder: Path, model_id: str, checksum: str) -> Path:
    key = hashlib.sha256(f"{model_id}|{checksum}".encode()).hexdigest()[:16]
    return folder / f"term_vectors-{key}.npz"


@dataclass
class Rewrite:
    """A question with its unknown words replaced by the documents' words."""

    text: str  # the rewritten question (normalized)
    mapped: list[Mapping]
    unknown: list[str]  # content words (surface) the corpus lacks and nothing maps


def _resegment(prev: str, surface: str, is_compound: Callable[[str], bool],
               known_text: Callable[[str], bool]) -> str | None:
    """自治 + 体側 -> 体: the head of ``surface`` that completes ``prev`` into a compound the corpus
    has (自治体), when the rest of it is a one-character suffix (側, 別, 系) or known itself."""
    for k in range(1, len(surface)):
        left, right = surface[:k], surface[k:]
        if is_compound(prev + left) and (len(right) == 1 or known_text(right)):
            return left if len(right) == 1 else left + right
    return None


def rewrite(question: str, known: Callable[[str], bool], tokens: Callable[[str], list[str]],
            term_map: TermMap | None) -> Rewrite:
    """Replace each content word the corpus lacks (see relevance.is_content) by its mapping."""
    from assistant.answer.relevance import is_content, pos_morphemes
    from assistant.normalize import normalize_text

    def known_text(text: str) -> bool:
        toks = tokens(text)
        return bool(toks) and all(known(t) for t in toks)

    norm = normalize_text(question)
    ms = pos_morphemes(norm, normalized=True)
    pieces = [m.surface for m in ms]
    todo: list[tuple[int, str, str]] = []
    for i, m in enumerate(ms):
        if m.head not in ("名詞", "形状詞") or not is_content(m) or known(m.form):
            continue
        if i > 0 and ms[i - 1].head == "名詞" and term_map is not None:
            fixed = _resegment(ms[i - 1].surface, m.surface, term_map.is_compound, known_text)
            if fixed is not None:
                pieces[i] = fixed
                continue
        todo.append((i, m.surface, m.form))
    mapped = term_map.map([(s, f) for _, s, f in todo]) if term_map is not None and todo else {}
    unknown: list[str] = []
    for i, s, _f in todo:
        if s in mapped:
            pieces[i] = mapped[s].target
            continue
        # Name the whole word: 駐車 + 場 -> 駐車場, 候補 + 地 -> 候補地.
        j = i + 1
        while j < len(ms) and (ms[j].head == "接尾辞" or ms[j].head == "名詞" and
                               (len(ms[j].surface) == 1 or ms[j].pos[2] == "助数詞可能")):
            j += 1
        word = "".join(x.surface for x in ms[i:j])
        if word not in unknown:
            unknown.append(word)
    return Rewrite("".join(pieces), list(mapped.values()), unknown)
