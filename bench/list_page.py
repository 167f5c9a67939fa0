"""Benchmark: the port-out list and the decision queue beside the Django admin changelist, on
100,000 port-outs.

    .venv/bin/python bench/list_page.py [--rows 100000] [--pending 500] [--iterations 60] [--keep]
    DATABASE_URL=postgres://user@host:5432/any .venv/bin/python bench/list_page.py

Builds a throwaway database: SQLite by default, or, when DATABASE_URL points at PostgreSQL, a
new database beside the one named there (created, then dropped at the end). It bulk-creates
the port-outs with their numbers, signs in a staff reviewer through Django's test Client and
times each request on the server side (middleware, queries, template rendering), for:

- a filtered and sorted first page of the list (pending, latest FOC first, 100 rows),
- a deep page of the list (sorted by creation, page 600 of 1,000 at 100 rows),
- the decision queue (/) once all but `--pending` port-outs are decided, the pending ones
  spread over the last 48 hours (every section filled), against the admin changelist of the
  pending port-outs, oldest first; and the queue's refresh when one port-out changed,

on the dashboard and on the admin changelist of PortOut (same rows per page, same filter and
order), in the same run. Prints p50/p95, the queries and the kilobytes per request.
Targets: dashboard p50 under 50 ms, and at most half the admin's p50.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_P50_MS = 50.0
TARGET_RATIO = 0.5
PER_PAGE = 100


def throwaway_postgres(url: str) -> str:
    """A new, empty database on the PostgreSQL server of `url`; its URL."""
    import psycopg

    name = f"bench_list_{os.getpid()}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres(url: str, bench_url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    name = bench_url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(db_path: str, database_url: str = "") -> None:
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DEBUG"] = "1"
    os.environ["VAR_DIR"] = str(Path(db_path).parent)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # DEBUG=1 above only spares the production checks (secret key, hosts, HTTPS); measure
    # with DEBUG off, so templates come from the cached loader as in production.
    settings.DEBUG = False


STATUSES = [("pending", 30), ("authorized", 15), ("ported", 35), ("rejected", 8), ("canceled", 12)]
CARRIERS = ["Verizon Wireless", "T-Mobile", "AT&T Mobility", "Comcast Business", "Bell Canada"]
NAMES = ["Acme Dental", "Maple Bakery", "Union Roofing", "Cedar Law Group", "Pioneer Fitness"]


def build(rows: int) -> None:
    from django.core.management import call_command

    from portouts.models import PortOut, PortOutNumber

    call_command("migrate", verbosity=0)
    rng = random.Random(42)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    now = datetime.now(tz=UTC)
    batch = 5000
    for offset in range(0, rows, batch):
        objs, numbers = [], []
        for i in range(offset, min(rows, offset + batch)):
            count = rng.choice([1, 1, 1, 2, 3, 8])
            nums = [f"+1{rng.randint(200, 999)}555{(i * 7 + k) % 10_000:04d}" for k in range(count)]
            created = start + timedelta(minutes=i * 9 + rng.randint(0, 8))
            foc = (created + timedelta(days=rng.randint(3, 20))).replace(hour=0, minute=0)
            status = rng.choice(statuses)
            objs.append(
                PortOut(
                    id=f"bench-{i:07d}",
                    status=status,
                    phone_numbers=nums,
                    first_number=nums[0],
                    number_count=count,
                    country_code="US" if i % 7 else "CA",
                    end_user_name=f"{rng.choice(NAMES)} {i}",
                    carrier_name=rng.choice(CARRIERS),
                    spid=str(rng.randint(1000, 9999)),
                    pon=f"PON{i:08d}",
                    support_key=f"PO_{100000 + i}",
                    foc_date=foc,
                    requested_foc_date=foc,
                    created_at=created,
                    inserted_at=created,
                    updated_at=created,
                    ported_out_at=foc if status == "ported" else None,
                    synced_at=now,
                    raw={"id": f"bench-{i:07d}", "pad": "x" * 400},
                )
            )
            numbers += [(f"bench-{i:07d}", n) for n in nums]
        PortOut.objects.bulk_create(objs)
        PortOutNumber.objects.bulk_create(
            [PortOutNumber(portout_id=pid, number=n) for pid, n in numbers]
        )


def timed(
    client, url: str, iterations: int, *, before=None, headers=None, status: int = 200
) -> tuple[list[float], list[float], int, int]:
    """Server time of `url`; `before()` runs untimed before each request (e.g. a change)."""
    from django.db import connection

    def get():  # type: ignore[no-untyped-def]
        response = client.get(url() if callable(url) else url, headers=headers or {})
        assert response.status_code == status, (url, response.status_code)
        return response

    for _ in range(3):  # warm caches (templates, permissions, SQLite pages)
        if before:
            before()
        get()
    queries = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    if before:
        before()
    with connection.execute_wrapper(count):
        get()
    times, cpu = [], []
    for _ in range(iterations):
        if before:
            before()
        t0, c0 = time.perf_counter(), time.process_time()
        response = get()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return times, cpu, len(queries), len(response.content)


def leave_pending(count: int) -> None:
    """All but `count` port-outs decided; those spread over the last 48 hours."""
    from django.utils import timezone

    from portouts.models import PortOut

    keep = list(
        PortOut.objects.filter(status="pending").order_by("id").values_list("id", flat=True)[:count]
    )
    PortOut.objects.filter(status="pending").exclude(id__in=keep).update(status="authorized")
    now = timezone.now()
    for i, pid in enumerate(keep):
        created = now - timedelta(minutes=(i * 48 * 60) // max(1, count))
        PortOut.objects.filter(id=pid).update(created_at=created, inserted_at=created)


class QueueRefresh:
    """The queue's refresh as the page sends it, after one pending port-out changed."""

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        import json

        from portouts.models import PortOut

        self.client = client
        self.changed = PortOut.objects.filter(status="pending").order_by("-created_at")[0].id
        self.vals = json.loads(client.get("/").context["refresh_vals"])

    def change(self) -> None:
        from django.utils import timezone

        from portouts.models import PortOut

        PortOut.objects.filter(id=self.changed).update(synced_at=timezone.now())

    def url(self) -> str:
        from urllib.parse import urlencode

        return f"/queue/refresh?{urlencode(self.vals)}"


def compare(client, name: str, ours: str, theirs: str, iterations: int) -> bool:  # type: ignore[no-untyped-def]
    """Print the dashboard's figures beside the admin's; whether the targets are met."""
    results = {}
    for label, url in (("dashboard", ours), ("admin", theirs)):
        times, cpu, queries, size = timed(client, url, iterations)
        results[label] = pct(times, 50)
        print(
            f"{name:32} {label:10} {pct(times, 50):8.1f} {pct(times, 95):8.1f} "
            f"{pct(cpu, 50):8.1f} {queries:8d} {size / 1024:6.0f}"
        )
    ratio = results["dashboard"] / results["admin"]
    met = results["dashboard"] < TARGET_P50_MS and ratio <= TARGET_RATIO
    print(f"{'':32} {'ratio':10} {ratio:8.2f}  {'target met' if met else 'TARGET MISSED'}")
    return met


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=500, help="pending for the queue case")
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--db", help="reuse a database kept by an earlier --keep run")
    args = parser.parse_args()

    db_path = args.db or os.path.join(tempfile.mkdtemp(prefix="bench-list-"), "bench.sqlite3")
    server_url = os.environ.get("DATABASE_URL", "")
    bench_url = ""
    if server_url.startswith(("postgres://", "postgresql://")):
        bench_url = throwaway_postgres(server_url)
        args.keep = False
    try:
        return run(args, db_path, bench_url)
    finally:
        if bench_url:
            drop_postgres(server_url, bench_url)
            print(f"throwaway database {bench_url.rsplit('/', 1)[1]} dropped")


def run(args: argparse.Namespace, db_path: str, bench_url: str) -> int:
    setup_django(db_path, bench_url)

    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from portouts.models import PortOut

    if PortOut not in admin.site._registry:
        print("PortOut is not registered in the admin (portouts/admin.py); nothing to compare.")
        return 2
    setup_test_environment()  # lets the test Client read response.context, as in tests

    t0 = time.perf_counter()
    if args.db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        build(args.rows)
    rows = PortOut.objects.count()
    where = bench_url.rsplit("@", 1)[-1] if bench_url else db_path
    print(f"{rows:,} port-outs ready in {time.perf_counter() - t0:.1f} s ({where})")
    args.rows = rows

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    # The admin changelist columns: o=-7 is foc_date descending, o=8 created_at ascending.
    deep = (args.rows // PER_PAGE) * 6 // 10
    cases = [
        (
            "filtered + sorted, first page",
            f"/portouts/?status=pending&o=-foc&per_page={PER_PAGE}",
            "/admin/portouts/portout/?status__exact=pending&o=-7",
        ),
        (
            f"deep page ({deep})",
            f"/portouts/?o=created&per_page={PER_PAGE}&page={deep}",
            f"/admin/portouts/portout/?o=8&p={deep}",
        ),
    ]
    print(
        f"\n{args.iterations} requests each, {PER_PAGE} rows per page; server time in ms "
        "(wall clock; cpu = this process's CPU time, less sensitive to a busy machine)\n"
    )
    header = (
        f"{'case':32} {'page':10} {'p50':>8} {'p95':>8} {'cpu p50':>8} {'queries':>8} {'KB':>6}"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for name, ours, theirs in cases:  # every case runs, whether or not one missed its target
        ok &= compare(client, name, ours, theirs, args.iterations)
    leave_pending(args.pending)
    queue_case = (
        f"queue ({args.pending} pending)",
        "/",
        "/admin/portouts/portout/?status__exact=pending&o=8",
    )
    ok &= compare(client, *queue_case, args.iterations)
    refresh = QueueRefresh(client)
    times, cpu, queries, size = timed(
        client,
        refresh.url,
        args.iterations,
        before=refresh.change,
        headers={"HX-Request": "true"},
    )
    print(
        f"{'queue refresh, 1 row changed':32} {'dashboard':10} {pct(times, 50):8.1f} "
        f"{pct(times, 95):8.1f} {pct(cpu, 50):8.1f} {queries:8d} {size / 1024:6.1f}"
    )
    print(
        f"\nTargets: dashboard p50 < {TARGET_P50_MS:.0f} ms and <= {TARGET_RATIO:.0%} of the "
        f"admin's p50: {'met' if ok else 'missed'}."
    )
    if args.keep or args.db:
        print(f"database kept at {db_path}")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(db_path + suffix).unlink(missing_ok=True)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
