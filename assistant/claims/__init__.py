"""Claims: every value an answer states, and what it rests on (quoted, computed, converted).

:func:`attribute` reads an answer's text into claims, :func:`verify` checks them; the
answerers, ``assistant eval`` and the LLM guard all use these two.
"""

from assistant.claims.attribute import attribute
from assistant.claims.model import Attribution, Claim, Computation, Problem
from assistant.claims.values import Value, find_values
from assistant.claims.verify import verify

__all__ = ["Attribution", "Claim", "Computation", "Problem", "Value", "attribute", "find_values", "verify"]
