"""What import-linter cannot say: the Telnyx client uses Django only for its settings."""

from __future__ import annotations

import ast
from pathlib import Path

import portouts.telnyx

ALLOWED_DJANGO = {"django.conf"}


def test_the_telnyx_client_imports_only_django_settings():
    package = Path(portouts.telnyx.__file__).parent
    found: set[str] = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    assert {m for m in found if m == "django" or m.startswith("django.")} <= ALLOWED_DJANGO
