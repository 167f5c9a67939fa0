"""Benchmark: a request's permission checks with the permissions kept in the cache
(portal/permissions.py) beside Django's ModelBackend, which queries them every request.

    .venv/bin/python bench/permissions.py [--iterations 400] [--rounds 3]
    REDIS_URL=redis://127.0.0.1:6379/0 BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/x \\
        .venv/bin/python bench/permissions.py

On a throwaway database (bench/_throwaway_db.py: SQLite, or PostgreSQL when
BENCH_DATABASE_URL or DATABASE_URL points at one) and the configured cache (Redis with
REDIS_URL, else the file cache). What each page does before its view runs: load the user
(as the session middleware does, afresh per request) and check two permissions (the role
middleware's, then a view's). Both backends run alternately, --rounds times each, and print
CPU p50 in ms and the queries per request.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _throwaway_db import postgres_url, throwaway_database  # noqa: E402
from list_page import setup_django  # noqa: E402

BACKENDS = {
    "Django's ModelBackend": "django.contrib.auth.backends.ModelBackend",
    "kept in the cache": "portal.permissions.CachedPermissionsBackend",
}


def one_round(user_pk: int, iterations: int) -> tuple[float, float]:
    """CPU p50 (ms) and queries per simulated request."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    users = get_user_model().objects

    def request() -> None:
        user = users.get(pk=user_pk)
        assert user.has_perm("portouts.view_portout")
        assert user.has_perm("portouts.review_portout")

    for _ in range(20):
        request()
    cpu = []
    for _ in range(iterations):
        start = time.process_time()
        request()
        cpu.append(time.process_time() - start)
    with CaptureQueriesContext(connection) as queries:
        request()
    return statistics.median(cpu) * 1000, len(queries)


def run(args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_user("bench-reviewer")
    user.groups.add(Group.objects.get(name="Reviewer"))
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(f"{connection.vendor}, cache {cache}: {args.iterations} requests per round\n")
    print(f"{'permissions':24} {'round':>5} {'cpu p50':>8} {'queries':>8}")
    figures: dict[str, list[float]] = {name: [] for name in BACKENDS}
    for round_no in range(1, args.rounds + 1):
        for name, backend in BACKENDS.items():
            with override_settings(AUTHENTICATION_BACKENDS=[backend]):
                cpu, queries = one_round(user.pk, args.iterations)
            figures[name].append(cpu)
            print(f"{name:24} {round_no:5} {cpu:8.3f} {queries:8}")
    naive, ours = (statistics.median(figures[name]) for name in BACKENDS)
    print(f"\nmedian of the rounds: {naive:.3f} → {ours:.3f} ms ({ours / naive:.2f}×)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="bench-perms-var-") as var_dir,
        throwaway_database("permissions", postgres_url()) as url,
    ):
        setup_django(url, var_dir)
        run(args)


if __name__ == "__main__":
    main()
