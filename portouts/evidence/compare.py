"""The one comparison of a name or an address given by the gaining carrier with ours.

Normalisation, applied to both sides: accents folded, lower case, every character that is
not a letter or a digit becomes a space, `&` reads "and", and common words are written one
way (incorporated → inc, street → st, ...), so "Acme Inc." and "ACME, Inc" are the same
text. Then rapidfuzz's `token_sort_ratio` (word order ignored) scores 0-100.

Two values **match** when the score is at least MATCH_THRESHOLD (90: a typo such as
"Jon Smith" / "John Smith" scores 95, "Acme Inc" / "Acme Plumbing Inc" 64) **and** they hold
the same numbers (house numbers, suites and ZIP codes must be equal: "123 Main St" /
"124 Main St" scores 91 but is another address). An empty value on either side is
"missing", never a match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

MATCH_THRESHOLD = 90.0

_WORDS = {
    "incorporated": "inc",
    "corporation": "corp",
    "company": "co",
    "limited": "ltd",
    "street": "st",
    "avenue": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "suite": "ste",
    "apartment": "apt",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}

Verdict = Literal["match", "differs", "missing"]


@dataclass(frozen=True)
class Comparison:
    """How one of the carrier's values compares with ours."""

    theirs: str
    ours: str
    score: float
    verdict: Verdict

    @property
    def matches(self) -> bool:
        return self.verdict == "match"


def normalise(text: str) -> str:
    """The text as compared (see the module docstring)."""
    folded = unicodedata.normalize("NFKD", text or "")
    folded = "".join(c for c in folded if not unicodedata.combining(c)).lower()
    folded = folded.replace("&", " and ")
    words = re.sub(r"[^0-9a-z]+", " ", folded).split()
    return " ".join(_WORDS.get(w, w) for w in words)


def compare(theirs: str | None, ours: str | None) -> Comparison:
    """Compare the carrier's value with our record's (MATCH_THRESHOLD, same numbers)."""
    a, b = normalise(theirs or ""), normalise(ours or "")
    if not a or not b:
        return Comparison(theirs or "", ours or "", 0.0, "missing")
    score = float(fuzz.token_sort_ratio(a, b))
    same_numbers = re.findall(r"\d+", a) == re.findall(r"\d+", b)
    verdict: Verdict = "match" if score >= MATCH_THRESHOLD and same_numbers else "differs"
    return Comparison(theirs or "", ours or "", round(score, 1), verdict)
