"""Give an answer its claims: every value of its text attributed to a quote, a computation
or a conversion (:mod:`assistant.claims`). Called once per answer, whatever the route."""

from __future__ import annotations

from assistant.claims import attribute
from assistant.claims.model import Claim
from assistant.claims.verify import stated_text
from assistant.types import Answer


def with_claims(answer: Answer) -> Answer:
    """``answer`` with ``claims`` set (in place; returned for chaining). Values that nothing
    supports get no claim: the verifier reports them as unclaimed."""
    found = attribute(answer.text, [stated_text(c) for c in answer.citations], answer.computations,
                       "\n".join([answer.question, *answer.history]))
    answer.claims = found.claims
    return answer


def unsupported_values(answer: Answer) -> list[Claim]:
    """The values of ``answer`` that no cited quote, computation or conversion supports."""
    return attribute(answer.text, [stated_text(c) for c in answer.citations], answer.computations,
                     "\n".join([answer.question, *answer.history])).unsupported
