"""Prepare a local demo: users per role, the sandbox's webhook keypair, and the demo's environment.

Runs only with DEBUG on. Writes var/demo.env, which `make demo` hands to every process,
so the dashboard talks to the local Telnyx sandbox and trusts its webhook signatures.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

DEMO_USERS = [
    ("viewer", "viewer", "demo-viewer-pass"),
    ("reviewer", "reviewer", "demo-reviewer-pass"),
    ("admin", "admin", "demo-admin-pass"),
]
DEMO_API_KEY = "KEYdemo-sandbox-key"


def load_or_create_keypair(path: Path) -> tuple[str, str]:
    """Return the (private, public) keys as base64 of their raw bytes, creating them if absent."""
    if path.exists():
        key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(path.read_text().strip()))
    else:
        key = Ed25519PrivateKey.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        raw_private = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        path.write_text(base64.b64encode(raw_private).decode())
        path.chmod(0o600)
    private = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def demo_banner(*, port: int, sandbox_port: int) -> str:
    """The URL and the sign-ins, printed by setup_demo and again by demo_ready."""
    lines = [f"\nDashboard: http://127.0.0.1:{port}/  (demo sign-ins below)"]
    lines += [f"  {role:<9} {username} / {password}" for username, role, password in DEMO_USERS]
    lines.append(f"Telnyx sandbox: http://127.0.0.1:{sandbox_port}/v2\n")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Create demo users and var/demo.env for `make demo` (DEBUG only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8010)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("setup_demo creates users with known passwords: DEBUG only.")
        var_dir = Path(settings.VAR_DIR)
        private_key, public_key = load_or_create_keypair(var_dir / "sandbox-ed25519.key")
        port, sandbox_port = options["port"], options["sandbox_port"]
        (var_dir / "demo.env").write_text(
            "\n".join(
                [
                    "DEBUG=1",
                    f"TELNYX_API_BASE_URL=http://127.0.0.1:{sandbox_port}/v2",
                    f"TELNYX_API_KEY={DEMO_API_KEY}",
                    f"TELNYX_PUBLIC_KEY={public_key}",
                    f"SANDBOX_PRIVATE_KEY={private_key}",
                    f"SANDBOX_WEBHOOK_URL=http://127.0.0.1:{port}/webhooks/telnyx",
                    "SYNC_INCREMENTAL_EVERY=15",
                    "",
                ]
            )
        )
        for username, role, password in DEMO_USERS:
            call_command("create_user", username, role=role, password=password)
        self.stdout.write(demo_banner(port=port, sandbox_port=sandbox_port))
