"""A deterministic synthetic corpus for scale benchmarks, built from the real one.

``generate_corpus(base, dest, n_docs, seed)`` writes under ``dest``:

* ``corpus/documents``: the real documents, copied, plus ``n_docs - len(real)`` synthetic Markdown
  documents. Each recombines 1–``max_sections`` real ``##`` sections (cut to
  ``max_section_chars`` at a line end) chosen by a per-document RNG, with numbers perturbed and
  prefecture / municipality names swapped (consistently within the document), and front matter
  (title, date, prefecture, fiscal year) for the metadata filters.
* ``corpus/records``: the real tables, with ``projects.csv`` extended by synthetic rows: every
  ``project_every``-th synthetic document carries a one-row 支援対象事業 table, and the row cites it
  (``source``, ``locator`` and ``quote`` = the exact table line).

The same ``(n_docs, seed, options)`` always gives byte-identical files. :func:`corpus_settings`
gives Settings rooted at ``dest`` (documents, records and index there; models from ``base``).
"""

from __future__ import annotations

import csv
import io
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings
from assistant.ingest.loaders import corpus_files
from assistant.records.schema import TECHNOLOGIES

_FRONT = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_SECTION = re.compile(r"^## ", re.MULTILINE)
_NUMBER = re.compile(r"(?<![A-Za-z0-9.])[0-9]{1,4}(?![0-9])")

SYNTH_PREFIX = "synth-"

@dataclass(frozen=True)
class CorpusOptions:
    """Shape of the synthetic documents (smaller documents: fewer chunks to embed)."""

    max_sections: int = 1
    max_section_chars: int = 500
    project_every: int = 10  # every n-th synthetic document adds a projects.csv row


@dataclass(frozen=True)
class SyntheticCorpus:
    settings: Settings
    documents: int  # all documents (real + synthetic)
    synthetic: int
    project_rows: int  # synthetic rows added to projects.csv
    chars: int  # characters of all documents


def corpus_settings(base: Settings, root: Path) -> Settings:
    """Settings rooted at ``root``: its own corpus and index; the prepared model of ``base``."""
    return base.model_copy(update={
        "root": root, "documents_dir": Path("corpus/documents"), "records_dir": Path("corpus/records"),
        "index_dir": Path("index"), "models_dir": base.models_path, "var_dir": Path("var"), "chroma_url": None,
    })


def _sections(text: str) -> list[str]:
    """The ``##`` sections of a Markdown document (each with its sub-sections)."""
    body = _FRONT.sub("", text)
    starts = [m.start() for m in _SECTION.finditer(body)]
    return [body[s:e].strip() + "\n" for s, e in zip(starts, starts[1:] + [len(body)], strict=True)]


def _cut(section: str, limit: int) -> str:
    if len(section) <= limit:
        return section
    end = section.rfind("\n", 0, limit)
    return section[: end if end > 0 else limit].rstrip() + "\n"


def _places(records_dir: Path) -> list[tuple[str, str]]:
    """(prefecture, municipality) pairs of the real projects table (one-municipality entries)."""
    out: list[tuple[str, str]] = []
    path = records_dir / "projects.csv"
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                munis = [m for m in row["municipalities"].split(";") if m]
                if len(munis) == 1 and (row["prefecture"], munis[0]) not in out:
                    out.append((row["prefecture"], munis[0]))
    return out or [("北海道", "札幌市")]


class _Varier:
    """Per-document perturbation of numbers and place names."""

    def __init__(self, rng: random.Random, places: list[tuple[str, str]]) -> None:
        self.rng = rng
        self.places = places
        names = sorted({n for p in places for n in p}, key=len, reverse=True)
        self.name_re = re.compile("|".join(map(re.escape, names)))
        self.mapping: dict[str, str] = {}

    def _name(self, m: re.Match[str]) -> str:
        name = m.group(0)
        if name not in self.mapping:
            pref, muni = self.rng.choice(self.places)
            self.mapping[name] = pref if name.endswith(("都", "道", "府", "県")) else muni
        return self.mapping[name]

    def _number(self, m: re.Match[str]) -> str:
        n = int(m.group(0))
        if 1900 <= n <= 2100:
            return str(n + self.rng.randint(-2, 2))
        if n <= 1:
            return m.group(0)
        return str(max(1, round(n * self.rng.uniform(0.5, 1.6))))

    def __call__(self, text: str) -> str:
        return _NUMBER.sub(self._number, self.name_re.sub(self._name, text))


def synthetic_document(i: int, sections: list[str], places: list[tuple[str, str]], seed: int,
                       opts: CorpusOptions) -> tuple[str, tuple[str, str, str] | None, dict[str, str]]:
    """(Markdown text, project table line and its facts or None, project facts) of document ``i``."""
    rng = random.Random(f"bench-corpus:{seed}:{i}")
    vary = _Varier(rng, places)
    k = rng.randint(1, max(1, opts.max_sections))
    chosen = [_cut(vary(s), opts.max_section_chars) for s in rng.sample(sections, min(k, len(sections)))]
    pref, muni = rng.choice(places)
    reiwa = rng.randint(1, 4)  # R1–R4, the years of the real projects table
    fy_label, fy = f"R{reiwa}", 2018 + reiwa
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    title = f"{pref}{muni}の未来技術活用事例 第{i}号"
    head = (f"---\ntitle: {title}\npublisher: 合成データ（ベンチマーク用）\ndate: 2023-{month:02d}-{day:02d}\n"
            f"prefecture: {pref}\nfiscal_year: {fy_label}\nlanguage: ja\n---\n\n# {title}\n\n")
    body = "\n".join(chosen)
    project: tuple[str, str, str] | None = None
    facts: dict[str, str] = {}
    if opts.project_every > 0 and i % opts.project_every == 0:
        techs = sorted(rng.sample(TECHNOLOGIES[:6], rng.randint(1, 3)), key=TECHNOLOGIES.index)
        no = 1000 + i
        line = f"| {no} | {pref}{muni} | {'、'.join(techs)} | {fy_label} |"
        locator = "支援対象事業一覧（合成）"
        body += (f"\n## {locator}\n\n| No. | 都道府県・市町村 | 活用技術 | 選定年度 |\n|---|---|---|---|\n{line}\n")
        project = (line, locator, str(no))
        facts = {"no": str(no), "prefecture": pref, "entry": f"{pref}{muni}", "municipalities": muni,
                 "technologies": ";".join(techs), "technologies_as_written": "、".join(techs),
                 "selection_year": fy_label, "selection_fy": str(fy)}
    return head + body, project, facts


def generate_corpus(base: Settings, dest: Path, n_docs: int, *, seed: int = 0,
                    opts: CorpusOptions | None = None) -> SyntheticCorpus:
    """Write a corpus of ``n_docs`` documents (at least the real ones) under ``dest``."""
    opts = opts or CorpusOptions()
    settings = corpus_settings(base, dest)
    docs_out, recs_out = settings.documents_path, settings.records_path
    docs_out.mkdir(parents=True, exist_ok=True)
    recs_out.mkdir(parents=True, exist_ok=True)
    real = corpus_files(base.documents_path)
    for p in real:
        shutil.copy2(p, docs_out / p.name)
    if base.records_path.is_dir():
        for p in sorted(base.records_path.iterdir()):
            if p.is_file():
                shutil.copy2(p, recs_out / p.name)
    sections = [s for p in real if p.suffix.lower() == ".md" for s in _sections(p.read_text(encoding="utf-8"))]
    places = _places(base.records_path)
    n_synth = max(0, n_docs - len(real)) if sections else 0
    rows: list[dict[str, str]] = []
    chars = sum(len(p.read_text(encoding="utf-8", errors="replace")) for p in real)
    width = max(5, len(str(n_synth)))
    for i in range(1, n_synth + 1):
        text, project, facts = synthetic_document(i, sections, places, seed, opts)
        name = f"{SYNTH_PREFIX}{i:0{width}d}.md"
        (docs_out / name).write_text(text, encoding="utf-8")
        chars += len(text)
        if project:
            line, locator, _no = project
            rows.append({"source": f"{settings.documents_dir.as_posix()}/{name}", "locator": locator, "quote": line,
                         **facts, "prefecture_is_applicant": "false", "mlit_autonomous_support": "false",
                         "support_ends_r4": "false"})
    if rows:
        _append_rows(recs_out / "projects.csv", rows)
    return SyntheticCorpus(settings, len(real) + n_synth, n_synth, len(rows), chars)


def _append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Append rows under the file's own header (columns it lacks are left out)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8-sig", newline="") as f:
        header = next(csv.reader(f))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    writer.writerows({k: r.get(k, "") for k in header} for r in rows)
    text = path.read_text(encoding="utf-8-sig")
    sep = "" if text.endswith("\n") else "\n"
    path.write_text(text + sep + buf.getvalue(), encoding="utf-8")
