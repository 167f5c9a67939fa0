"""What a Telnyx id looks like, for the URLs and the filters that take one.

Telnyx ids are UUIDs in practice; the pattern is wider (letters, digits and `._:-`, up to
255 characters, starting with a letter or digit) so an id of another shape still works.
Anything else (a NUL byte, spaces, markup) cannot be an id: its URL does not resolve, so it
is a 404 before any query, and PostgreSQL never sees text it refuses.
"""

from __future__ import annotations

import re

from django.urls.converters import StringConverter

TELNYX_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,254}"
TELNYX_ID = re.compile(TELNYX_ID_PATTERN)


def is_telnyx_id(value: str) -> bool:
    return TELNYX_ID.fullmatch(value) is not None


#: A support key as Telnyx shows it to people, e.g. PO_779658.
SUPPORT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_portout_reference(value: str) -> bool:
    """A port-out named the way a person would: its support key or its Telnyx id."""
    return SUPPORT_KEY.fullmatch(value) is not None or is_telnyx_id(value)


class TelnyxIdConverter(StringConverter):
    """`<telnyx_id:name>` in a URL pattern."""

    regex = TELNYX_ID_PATTERN
