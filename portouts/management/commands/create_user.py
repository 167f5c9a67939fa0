"""Create (or update) a dashboard user with a role: viewer, reviewer or admin."""

from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portouts.roles import REVIEWER, VIEWER

ROLES = {"viewer": [VIEWER], "reviewer": [REVIEWER], "admin": [REVIEWER]}


class Command(BaseCommand):
    help = "Create a user with a role (viewer, reviewer, or admin = reviewer + admin site)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", choices=sorted(ROLES), required=True)
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password", help="Taken from the prompt when omitted (avoid it on shared machines)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        role: str = options["role"]
        password = options["password"] or getpass.getpass(f"Password for {username}: ")
        if not password:
            raise CommandError("A password is required.")
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"email": options["email"]}
        )
        user.set_password(password)
        user.is_staff = user.is_superuser = role == "admin"
        user.save()
        user.groups.set(Group.objects.filter(name__in=ROLES[role]))
        verb = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{verb} {username} with role {role}."))
