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


def demo_alerts() -> None:
    """An e-mail channel to the mail catcher and rules for new and due-soon port-outs,
    reaching the demo reviewer too (once: they are kept across demo runs)."""
    from django.contrib.auth import get_user_model

    from portouts.alerts.channels import channel_save
    from portouts.choices import AlertKind, ChannelKind, RouteRole
    from portouts.models import AlertChannel, AlertRoute, AlertRule

    reviewer = get_user_model().objects.get(username="reviewer")
    if not reviewer.email:
        reviewer.email = "reviewer@demo.invalid"
        reviewer.save(update_fields=["email"])
    channel = AlertChannel.objects.filter(name="porting team (demo mail)").first()
    if channel is None:
        channel = channel_save(
            AlertChannel(name="porting team (demo mail)", kind=ChannelKind.EMAIL),
            "porting@demo.invalid",
        )
    for name, kind, thresholds in (
        ("New pending port-outs", AlertKind.NEW_PENDING, []),
        ("Due soon", AlertKind.DUE_SOON, [8, 2]),
    ):
        rule, created = AlertRule.objects.get_or_create(
            name=name, defaults={"kind": kind, "thresholds_hours": thresholds}
        )
        if created:
            route = AlertRoute.objects.create(rule=rule, role=RouteRole.PRIMARY)
            route.channels.add(channel)
            route.users.add(reviewer)


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
        parser.add_argument("--smtp-port", type=int, default=8025)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("setup_demo creates users with known passwords: DEBUG only.")
        var_dir = Path(settings.VAR_DIR)
        private_key, public_key = load_or_create_keypair(var_dir / "sandbox-ed25519.key")
        port, sandbox_port = options["port"], options["sandbox_port"]
        smtp_port = options["smtp_port"]
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
                    # Alerts go to the demo's mail catcher (Procfile.demo: mail).
                    "EMAIL_HOST=127.0.0.1",
                    f"EMAIL_PORT={smtp_port}",
                    f"DASHBOARD_URL=http://127.0.0.1:{port}",
                    "",
                ]
            )
        )
        for username, role, password in DEMO_USERS:
            call_command("create_user", username, role=role, password=password)
        demo_alerts()
        self._import_demo_customers(var_dir / "demo-customers.csv")
        self.stdout.write(demo_banner(port=port, sandbox_port=sandbox_port))
        self.stdout.write(f"Mail catcher: 127.0.0.1:{smtp_port} (alerts print in the demo log)\n")

    def _import_demo_customers(self, path: Path) -> None:
        """The sandbox's customers (written by its seed), so the verification panel has
        records to compare with; a refused file is reported and the demo goes on."""
        if not path.exists():
            return
        try:
            call_command("import_customers", str(path), stdout=self.stdout, stderr=self.stderr)
        except CommandError as exc:
            self.stderr.write(f"Demo customers not imported: {exc}")
