"""The one comparison of names, carriers and addresses: fuzzy, so "Acme Inc." matches
"ACME, Inc" but "Acme Plumbing" does not match "Zenith Dental"."""

from __future__ import annotations

from rapidfuzz import fuzz, utils

#: token_sort_ratio at or above this counts as the same name (0-100)
SIMILAR_AT = 88


def similar(a: str, b: str) -> bool:
    """Whether two names (or addresses) name the same thing, case and punctuation aside."""
    left, right = utils.default_process(a or ""), utils.default_process(b or "")
    if not left or not right:
        return False
    return fuzz.token_sort_ratio(left, right) >= SIMILAR_AT
