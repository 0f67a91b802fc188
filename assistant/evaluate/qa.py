"""The QA set: JSON Lines items in the format of ``shared/qa-format.md``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.errors import QAFileInvalidError


class GoldSource(BaseModel):
    """A retrieved chunk is a hit when its source matches and its text contains ``contains``."""

    model_config = ConfigDict(extra="allow")

    source: str
    contains: str = ""


class QAItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    question: str
    category: str = "uncategorized"
    history: list[str] = Field(default_factory=list)
    expected: list[str] = Field(default_factory=list)
    any_of: list[list[str]] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list)
    answerable: bool = True
    accept: list[str] = Field(default_factory=list)  # phrases that correctly reject a false premise
    gold_sources: list[GoldSource] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v

    @field_validator("question")
    @classmethod
    def _question_not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("question is empty")
        return v

    @field_validator("history", "expected", "forbidden", "accept", mode="before")
    @classmethod
    def _none_to_list(cls, v: object) -> object:
        return [] if v is None else v

    @field_validator("any_of", mode="before")
    @classmethod
    def _any_of_groups(cls, v: object) -> object:
        # Tolerate a flat list of strings: one group.
        if v is None:
            return []
        if isinstance(v, list) and v and all(isinstance(x, str) for x in v):
            return [v]
        return v


class QAFileError(QAFileInvalidError, ValueError):
    """The QA file is missing or malformed (a usage error)."""


def load_qa(path: Path) -> list[QAItem]:
    """Parse a QA JSON Lines file; blank lines and lines starting with ``#`` or ``//`` are skipped."""
    if not path.is_file():
        raise QAFileError(f"QA file not found: {path}")
    items: list[QAItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        s = line.strip()
        if not s or s.startswith("#") or s.startswith("//"):
            continue
        try:
            item = QAItem.model_validate(json.loads(s))
        except json.JSONDecodeError as e:
            problems.append(f"{path}:{n}: invalid JSON ({e.msg})")
            continue
        except ValidationError as e:
            errs = "; ".join(f"{'.'.join(map(str, er['loc']))}: {er['msg']}" for er in e.errors())
            problems.append(f"{path}:{n}: {errs}")
            continue
        if item.id in seen:
            problems.append(f"{path}:{n}: duplicate id {item.id!r}")
            continue
        seen.add(item.id)
        items.append(item)
    if problems:
        raise QAFileError("\n".join(problems[:20]) + (f"\n… {len(problems) - 20} more" if len(problems) > 20 else ""))
    if not items:
        raise QAFileError(f"QA file has no items: {path}")
    return items


def items_hash(items: list[QAItem]) -> str:
    """Hash of the evaluated items (so a baseline is only compared with the same set)."""
    data = json.dumps([i.model_dump(mode="json") for i in items], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def item_hash(item: QAItem) -> str:
    """Short hash of one item: a baseline compares only items that did not change."""
    data = json.dumps(item.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()[:10]
