"""The load test's reviewer (bench/load/locustfile.py) walks its flow against the test server:
sign-in through the form, the queue, a filtered list, a port-out page from the queue and each
page's refresh, all answered as the pages expect. Locust runs in a process of its own (it
patches the standard library with gevent on import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.contrib.auth.models import Group

from portouts.roles import REVIEWER
from tests.fixtures_dashboard import bulk_portouts

LOCUSTFILE = Path(__file__).resolve().parent.parent / "bench" / "load" / "locustfile.py"


def test_reviewer_flow_runs_against_the_server(
    live_server, restored_roles, django_user_model, fast_passwords
) -> None:
    bulk_portouts(3)
    user = django_user_model.objects.create_user(username="loadtest", password="pw-load-flow")
    user.groups.add(Group.objects.get(name=REVIEWER))
    env = {**os.environ, "LOAD_USERNAMES": "loadtest", "LOAD_PASSWORD": "pw-load-flow"}

    done = subprocess.run(
        [sys.executable, str(LOCUSTFILE), live_server.url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert [a["name"] for a in result["asked"]] == [
        "sign-in form",
        "sign-in",
        "queue",
        "queue refresh",
        "list",
        "list refresh",
        "port-out page",
        "port-out refresh",
    ]
    assert all(a["error"] == "" for a in result["asked"]), result
    # Nothing changed between a page and its refresh: each refresh is a 204.
    assert {a["name"]: a["status"] for a in result["asked"] if "refresh" in a["name"]} == {
        "queue refresh": 204,
        "list refresh": 204,
        "port-out refresh": 204,
    }
    assert result["portouts_in_queue"] == 3
