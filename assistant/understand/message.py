"""Helpdesk messages: whole e-mails, call memos and several questions in one message.

:func:`analyze` splits a message into parts (sentences, lines, list markers ①② / 1. / (1) / ・,
connectives such as 「また」「あわせて」) and classifies each part as a greeting (greetings,
closings, apologies), an introduction (self-introduction, signature, 「先方：…」 in a memo), a
topic (「…について3点教えてください」), context, or a question. Quoted earlier mail (lines starting
with ``>`` and everything after 「-----Original Message-----」) is set aside.

The sender — the municipality or prefecture of the introduction — is what 弊市／当町／本県／うちの
refer to; :func:`Message.question_texts` substitutes its name. The cue words are data
(``assistant/data/message_cues.tsv``). Pure: the place finder is passed in (the records engine's
``lexicon.find``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

CUES_PATH = Path(__file__).resolve().parent.parent / "data" / "message_cues.tsv"

GREETING, INTRO, TOPIC, CONTEXT, QUESTION = "greeting", "intro", "topic", "context", "question"

#: ①..⑳ and the way a user numbers questions.
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_MARKER = re.compile(
    r"(?:(?<=^)|(?<=[。．.！？!?、，,\s：:]))"
    r"(?P<m>[①-⑳]|[(（][0-9０-９]{1,2}[)）]|[0-9０-９]{1,2}[.．)）](?![0-9０-９])|[QＱ][0-9０-９]{1,2}[.．:：]?)\s*"
)
_BULLET = re.compile(r"^\s*[・●○■□◆◇\-–—*]\s*")
_SENTENCE_END = "。！？!?"
_OPEN, _CLOSE = "「『（(【〔[", "」』）)】〕]"


@dataclass(frozen=True)
class Cues:
    by_kind: dict[str, tuple[str, ...]]
    self_refs: tuple[tuple[str, str], ...]  # (word, kind) longest first
    pairs: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # kind -> (from, to)

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return self.by_kind.get(kind, ())


@lru_cache(maxsize=4)
def load_cues(path: Path = CUES_PATH) -> Cues:
    by: dict[str, list[str]] = {}
    refs: list[tuple[str, str]] = []
    pairs: dict[str, list[tuple[str, str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        kind, cue = cols[0].strip(), cols[1].strip()
        by.setdefault(kind, []).append(cue)
        if kind == "rewrite":
            pairs.setdefault(kind, []).append((cue, cols[2].strip() if len(cols) > 2 else ""))
        if kind == "self_ref":
            refs.append((cue, cols[2].strip() if len(cols) > 2 else "any"))
    by_kind = {k: tuple(sorted(set(v), key=lambda s: -len(s))) for k, v in by.items()}
    return Cues(by_kind, tuple(sorted(refs, key=lambda r: -len(r[0]))),
                {k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in pairs.items()})


@dataclass(frozen=True)
class Part:
    """One piece of a message. ``label`` is the user's own numbering (「①」「1.」), if any."""

    text: str
    kind: str
    label: str = ""


@dataclass(frozen=True)
class Sender:
    """Who wrote (or, in a memo, who called): canonical names from the records' lexicon."""

    surface: str  # the introduction as written
    prefecture: str = ""
    municipality: str = ""
    unknown_place: str = ""  # a place name the records do not know (久留米市)

    @property
    def name(self) -> str:
        """「岐阜県中津川市」, 「栃木県」 or the unknown place."""
        return self.prefecture + (self.municipality or self.unknown_place)

    @property
    def entity(self) -> str:
        """The entity as addressed: the municipality if any, else the prefecture."""
        return self.municipality or self.unknown_place or self.prefecture


@dataclass(frozen=True)
class Question:
    """A question to ask: the text (sender and topic substituted), as written, and its label."""

    text: str
    original: str
    label: str = ""
    uses_sender: bool = False
    #: the question names its own place and refers to no earlier part: asked without the others
    standalone: bool = False


@dataclass(frozen=True)
class Message:
    text: str
    parts: tuple[Part, ...]
    sender: Sender | None = None
    quoted: str = ""  # quoted earlier mail, left aside
    questions: tuple[Question, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def plain(self) -> bool:
        """A plain question: nothing but one question (answered as typed)."""
        return (not self.quoted and len(self.questions) <= 1
                and all(p.kind in (QUESTION, CONTEXT) for p in self.parts)
                and sum(p.kind == QUESTION for p in self.parts) <= 1
                and not any(q.uses_sender or q.text != q.original for q in self.questions))

    @property
    def numbered(self) -> bool:
        return any(q.label for q in self.questions)

    def kinds(self) -> list[str]:
        return [p.kind for p in self.parts]


# -- splitting -----------------------------------------------------------------------------------
def split_quoted(text: str, cues: Cues | None = None) -> tuple[str, str]:
    """(the new message, the quoted earlier mail)."""
    cues = cues or load_cues()
    body: list[str] = []
    quoted: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if any(s.startswith(q) for q in cues["quote_start"]) or re.match(r"^(On .+wrote:|.+さんは書きました[:：]?)$", s):
            quoted.extend(lines[i:])
            break
        if s.startswith((">", "＞")):
            quoted.append(line)
        else:
            body.append(line)
    return "\n".join(body), "\n".join(quoted)


def _sentences(line: str) -> list[str]:
    """Split at 。！？ outside brackets; the end mark stays with its sentence."""
    out: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(line):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        elif ch in _SENTENCE_END and depth == 0:
            # 「？」 followed by more ? or ！ stays together
            if i + 1 < len(line) and line[i + 1] in _SENTENCE_END:
                continue
            out.append(line[start:i + 1])
            start = i + 1
    out.append(line[start:])
    return [s.strip() for s in out if s.strip()]


def _markers(sentence: str) -> list[tuple[str, str]]:
    """(label, text) pieces of a sentence split at list markers; the first may have no label."""
    pieces: list[tuple[str, str]] = []
    last = 0
    label = ""
    for m in _MARKER.finditer(sentence):
        tok = m.group("m")
        # 「1.」 only as a marker: not a decimal (1.5), not a year-month (R4.12)
        if tok[0].isdigit() and m.start() > 0 and sentence[m.start() - 1].isalnum():
            continue
        pieces.append((label, sentence[last:m.start()]))
        label, last = tok.strip(), m.end()
    pieces.append((label, sentence[last:]))
    return [(lab, t.strip()) for lab, t in pieces if t.strip() or lab]


def _split_connective(sentence: str, cues: Cues) -> str:
    """The sentence without a leading connective (「また、」「あと」)."""
    for c in cues["connective"]:
        if sentence.startswith(c):
            rest = sentence[len(c):]
            if rest[:1] in "、，, ":
                return rest[1:].strip()
            if c in ("あわせて", "併せて", "合わせて", "加えて", "あと", "それと") and rest:
                return rest.strip()
    return sentence


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s)


# -- classifying ---------------------------------------------------------------------------------
def _core(s: str) -> str:
    return s.strip().rstrip("。．.!！ 　").strip()


def _only_politeness(s: str, cues: Cues) -> bool:
    t = _core(s)
    for kind in ("greeting", "closing", "apology", "request"):
        for c in cues[kind]:
            t = t.replace(c, "")
    t = re.sub(r"[、。，,\s・!！]", "", t)
    # what is left: at most a couple of kana (「ご」「の」「お」「を」「ます」)
    return not re.search(r"[\u4e00-\u9fffA-Za-z0-9\u30a0-\u30ff]", t) or len(t) <= 1


def _is_question(s: str, cues: Cues, memo: bool) -> bool:
    t = _core(s)
    if "？" in s or "?" in s:
        return True
    for q in cues["question_end"]:
        if t.endswith(q):
            if q == "か" and not re.search(r"(何|いくら|いつ|どこ|どの|どれ|どう|誰|どちら|可能|ある|ない|です|ます|いる|た)か$", t):
                continue
            return True
    if re.search(r"(教えて|ご教示|知りたい|確認したい|伺いたい|教えていただ)", t) and not t.endswith(
            ("おります", "ております", "考えております", "ところです")):
        return True
    if memo and any(n in t for n in cues["question_noun"]):
        return True
    return False


def _is_intro(s: str, cues: Cues) -> bool:
    t = _core(s)
    if any(t.startswith(c) and t[len(c):len(c) + 1] in "：:　 ・" for c in cues["caller"]):
        return True
    for end in cues["intro_end"]:
        if t.endswith(end):
            head = t[: -len(end)].rstrip("の 　")
            if any(head.endswith(o) or re.search(re.escape(o) + r"[ 　]?\S{0,8}$", head) for o in cues["office"]):
                return len(head) <= 60 and not _is_question(s, cues, False)
    return False


def _is_signature_line(line: str, cues: Cues, find_places: Callable[[str], list[Any]] | None) -> bool:
    """A line without sentence ends that names an office (「塩尻市 企画政策部 先端技術推進課」)."""
    t = line.strip()
    if not t or any(ch in t for ch in "。？?") or len(t) > 60:
        return False
    if not any(o in t for o in cues["office"]):
        return False
    return bool(find_places and any(getattr(x, "kind", "") in ("municipality", "prefecture", "place")
                                     for x in find_places(_norm(t))))


def _is_topic(s: str, cues: Cues) -> bool:
    t = _core(s)
    if "について" not in t and "の件" not in t and not t.endswith("件"):
        return False
    if any(t.endswith(c) for c in cues["topic_end"]):
        return True
    # 「2点教えてください」「次の2点をご教示ください」「以下の3点についてお伺いします」
    return bool(re.search(r"[0-9０-９一二三四五]+(点|つ)(を|について|、)?(教えて|確認|質問|お伺い|伺い|ご教示|お尋ね|お聞き)", t))


def _is_place_intro(s: str, cues: Cues, find_places: Callable[[str], list[Any]] | None) -> bool:
    """「長野県塩尻市の佐藤です。」: a short sentence that starts with a place and names the writer."""
    if find_places is None:
        return False
    t = _core(s)
    end = next((e for e in cues["intro_end"] if t.endswith(e)), "")
    if not end or _is_question(s, cues, False):
        return False
    head = t[: -len(end)]
    if len(head) > 30:
        return False
    places = [x for x in find_places(_norm(head))
              if getattr(x, "kind", "") in ("municipality", "prefecture", "place")]
    if not places or getattr(places[0], "start", 0) > 0:
        return False
    last = max(getattr(x, "end", 0) for x in places)
    rest = _norm(head)[last:]
    # what follows the place: 「の」 and a short name (no verb, no further clause)
    return bool(re.fullmatch(r"[(（※）)]*(の|[ 　])\S{1,8}", rest))


#: A lead-in that only counts the questions (「恐れ入りますが以下の2点について」): no topic of its own.
_COUNT_LEAD = re.compile(r"^(?:恐れ入りますが|恐縮ですが|お手数ですが)?(?:以下|次|下記)?の?[0-9０-９一二三四五]+(?:点|つ)(?:の件)?について$")


def _topic_prefix(s: str) -> str:
    t = _core(s)
    m = re.search(r"^(.*?について)", t)
    if m:
        last = re.split(r"[、，,]", m.group(1))[-1].strip()
        return "" if _COUNT_LEAD.match(last) else m.group(1)
    m = re.search(r"^(.*?)の件", t)
    if m:
        return m.group(1) + "について"
    return ""


def _memo_topic(s: str, cues: Cues) -> bool:
    """A memo line 「R4実施のデジ田交付金事前相談の件。」 that names what the next lines ask about."""
    t = _core(s)
    return t.endswith("の件") and len(t) <= 60


# -- the question text -----------------------------------------------------------------------------
def clean_question(text: str, cues: Cues | None = None) -> str:
    """The question without politeness (恐れ入りますが), connectives and memo tails (照会)."""
    cues = cues or load_cues()
    t = _split_connective(text.strip(), cues)
    for c in cues["apology"]:
        t = t.replace(c + "、", "").replace(c, "")
    t = t.strip("、 　")
    again = True
    while again:
        again = False
        for adv in cues["lead_adverb"]:
            if t.startswith(adv + "、") or t.startswith(adv + "，"):
                t, again = t[len(adv) + 1:].lstrip(), True
    for old, new in cues.pairs.get("rewrite", ()):
        if old in t:
            t = t.replace(old, new).replace("？。", "？")
    # 「…事業」: the brackets only mark a name
    t = re.sub(r"「([^「」]{2,80})」", r"\1", t)
    core = t.rstrip("。．. 　")
    end = t[len(core):]
    changed = True
    while changed:
        changed = False
        for tail in cues["strip_tail"]:
            if core.endswith(tail) and len(core) > len(tail) + 2:
                core = core[: -len(tail)].rstrip("、 　")
                changed = True
    if core != t.rstrip("。．. 　"):
        return core + ("は？" if not core.endswith(("か", "？", "?")) else "")
    return core + end


def _substitute(text: str, sender: Sender | None, cues: Cues) -> tuple[str, bool]:
    if sender is None:
        return text, False
    used = False
    for word, kind in cues.self_refs:
        if word not in text:
            continue
        if word == "うちの" and re.search(r"[\u3040-\u309f]うちの", text):
            continue
        if kind == "prefecture":
            name = sender.prefecture
        elif kind == "municipality":
            name = sender.name if (sender.municipality or sender.unknown_place) else ""
        else:
            name = sender.name
        if not name:
            continue
        text = text.replace(word, name + ("の" if word.endswith("の") else ""))
        used = True
    return text, used


def _substitute_program(text: str, programs: Sequence[str], cues: Cues) -> str:
    if not programs:
        return text
    for w in cues["program_ref"]:
        if w in text:
            return text.replace(w, programs[-1], 1)
    return text


_QUOTED_PROGRAM = re.compile(r"「([^「」]{2,60}(?:事業|制度|交付金|補助金))」")


def sender_of(text: str, find_places: Callable[[str], list[Any]] | None) -> Sender | None:
    if find_places is None:
        return None
    pref = muni = unknown = ""
    for term in find_places(_norm(text)):
        kind, value = getattr(term, "kind", ""), getattr(term, "value", "")
        if kind == "prefecture" and not pref:
            pref = value
        elif kind == "municipality" and not muni:
            muni = value
        elif kind == "place" and not unknown:
            unknown = value
    if not (pref or muni or unknown):
        return None
    if muni:
        # A listed municipality is the sender; a further "place" is a misread of the office or the
        # name after it (「デジタル推進課の中村」 read as a place).
        unknown = ""
    return Sender(text.strip(), pref, muni, unknown)


def refers_back(text: str, cues: Cues | None = None) -> bool:
    """Whether ``text`` refers to an earlier part (そのうち, その中で, この事業)."""
    cues = cues or load_cues()
    return any(w in text for w in cues["reference"]) or any(text.startswith(w) for w in cues["reference_start"])


def _standalone(text: str, own: str, find_places: Callable[[str], list[Any]] | None, cues: Cues) -> bool:
    if find_places is None or refers_back(own, cues):
        return False
    return any(getattr(t, "kind", "") in ("municipality", "prefecture", "place") for t in find_places(_norm(text)))


def _predicate_less(s: str) -> bool:
    """「事業単位？」「市町村だけ？」: a short noun phrase asked with no verb, adjective or copula."""
    from assistant.tokenize import morphemes

    if len(s) > 14 or not s.rstrip().endswith(("？", "?")):
        return False
    return not any(pos in ("動詞", "形容詞", "助動詞") for _, _, pos in morphemes(s))


def _join_alternatives(parts: list[Part]) -> list[Part]:
    """「県ごと？市町村ごと？」: an unnumbered bare alternative after a question belongs to it."""
    out: list[Part] = []
    for p in parts:
        prev = out[-1] if out else None
        if (prev is not None and prev.kind == QUESTION and p.kind == QUESTION and not p.label and not prev.label
                and _predicate_less(p.text)):
            out[-1] = Part(prev.text + p.text, QUESTION, prev.label)
            continue
        out.append(p)
    return out


def analyze(text: str, find_places: Callable[[str], list[Any]] | None = None,
            history: Sequence[str] = (), cues: Cues | None = None,
            program_names: Sequence[str] = ()) -> Message:
    """The parts of ``text`` and its questions. ``find_places`` is ``RecordsEngine.lexicon.find``;
    ``history`` (earlier messages) gives the sender of 「先方：同上」."""
    cues = cues or load_cues()
    body, quoted = split_quoted(text, cues)
    memo = any(re.search(rf"(^|\n|。)\s*{re.escape(c)}[：:]", body) for c in cues["caller"]) or any(
        c in body for c in ("要回答", "折返し要", "折り返し要", "照会。"))
    parts: list[Part] = []
    for line in body.splitlines():
        if not line.strip():
            continue
        bullet = _BULLET.match(line)
        line_label = "・" if bullet and not line.lstrip().startswith("-----") else ""
        if bullet:
            line = line[bullet.end():]
        if _is_signature_line(line, cues, find_places):
            parts.append(Part(line.strip(), INTRO))
            continue
        for sent in _sentences(line):
            for label, piece in _markers(sent):
                label = label or line_label
                line_label = ""
                parts.append(Part(piece, "", label))
    classified: list[Part] = []
    for p in parts:
        s = p.text
        if not s or not re.search(r"\w", s):
            continue  # empty, or a separator line (「--」「＊＊＊」)
        if p.kind == INTRO or _is_intro(s, cues) or _is_place_intro(s, cues, find_places):
            kind = INTRO
        elif _only_politeness(s, cues):
            kind = GREETING
        elif _is_topic(s, cues):
            kind = TOPIC
        elif p.label and not _is_question(s, cues, memo) and s.endswith(("、", "，", ",")):
            kind = QUESTION  # 「①全部で何件か、」 inside one sentence
        elif _is_question(s, cues, memo) or (p.label and len(s) > 3):
            kind = QUESTION
        elif s.rstrip("、，,").endswith("について") or (memo and _memo_topic(s, cues)):
            kind = TOPIC
        else:
            kind = CONTEXT
        classified.append(Part(s, kind, p.label))
    classified = _join_alternatives(classified)
    # A sentence split at markers leaves its request tail on the last piece:
    # 「①全部で何件か、②…何件か、教えてください。」
    # The sender: the first introduction naming a place; 「先方：同上」 takes the earlier message's.
    sender = None
    for p in classified:
        if p.kind == INTRO:
            if any(w in p.text for w in cues["same_as_before"]):
                for h in reversed(list(history)):
                    earlier = analyze(h, find_places, (), cues, program_names)
                    if earlier.sender is not None:
                        sender = earlier.sender
                        break
            else:
                sender = sender_of(p.text, find_places)
            if sender is not None:
                break
    # The questions, with the topic prefixed and the sender substituted.
    programs: list[str] = []
    names = sorted(program_names, key=len, reverse=True)
    questions: list[Question] = []
    topic = ""
    for p in classified:
        programs.extend(_QUOTED_PROGRAM.findall(p.text))
        programs.extend(n for n in names if n in p.text and not any(n in x for x in programs))
        if p.kind == TOPIC:
            topic = _topic_prefix(p.text)
            continue
        if p.kind != QUESTION:
            continue
        own = clean_question(p.text, cues)
        q = f"{topic}、{own}" if topic and not own.startswith(topic) else own
        q = re.sub(r"「([^「」]{2,80})」", r"\1", q)
        q = _substitute_program(q, [x for x in programs if x not in q], cues)
        q, used = _substitute(q, sender, cues)
        questions.append(Question(q, _split_connective(p.text, cues), p.label, used,
                                  _standalone(q, own, find_places, cues)))
    # Labels: kept only when the user numbered every question.
    if questions and not all(q.label for q in questions):
        questions = [replace(q, label="") for q in questions]
    if not questions:
        # Nothing reads as a question: the non-polite text is asked as it stands.
        rest = [p for p in classified if p.kind in (CONTEXT, TOPIC)]
        if rest:
            t = "".join(p.text for p in rest)
            q, used = _substitute(clean_question(t, cues), sender, cues)
            questions.append(Question(q, t, "", used))
    return Message(text, tuple(classified), sender, quoted, tuple(questions), {"memo": memo})
