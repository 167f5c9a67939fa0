"""Benchmark: the dashboard's pages beside the Django admin changelist, on 100,000 port-outs.

    .venv/bin/python bench/list_page.py [--rows 100000] [--pending 500] [--iterations 60]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/portouts \
        .venv/bin/python bench/list_page.py

Builds a throwaway database (bench/_throwaway_db.py: SQLite, or a PostgreSQL database of
its own when BENCH_DATABASE_URL or DATABASE_URL points at one), bulk-creates the port-outs
with their numbers, --pending of them pending, and a year of events (one to four per
port-out), signs in a staff reviewer through Django's test Client and times each request on
the server side (middleware, queries, template rendering), for:

- the list, a filtered and sorted first page (rejected, latest FOC first, 100 rows),
- the list, a deep page (sorted by creation, page 600 of 1,000 at 100 rows),

on the dashboard (/portouts/) and on the admin changelist of PortOut (same rows per page,
same filter and order), in the same run; then the queue (home: its sections of pending
port-outs, the counts and the recent activity) beside the admin's changelist of the pending
ones, the queue's refresh after one port-out changed, the folded section's rows when opened,
and a port-out page (with its timeline), which has no admin counterpart. Prints p50/p95, CPU
p50 and the queries per request. Targets (issues 12 and 16): the list's p50 at most half the
admin's; the list, queue and port-out page under 30 ms of server CPU at p50 (CPU: wall times
on the shared machine measure the other jobs as much as ours).

Requests go through Django's test Client without `setup_test_environment()`: its
instrumented template rendering (a signal per template rendered) costs the queue about a
tenth of its time and does not exist in production.

Where the time went (cProfile of requests through the Client, PostgreSQL, 100,000
port-outs, December 2026): the queue spent two thirds of its CPU rendering ~310 rows
(~0.05 ms each to read and render) and the rest in 21 queries, three of them for the cache
version and five for the recent activity; a port-out page spent a third of its CPU on its
version token (nine queries, then one query of ten subqueries whose compilation by the ORM
took longer than running it). Since then: the queue shows 100 rows per section and reads
the folded past-the-window rows only when opened, the cache version is one query, the recent
activity is cached under it, and a port-out page's token is one query compiled once per
process (portouts/versions.py). EXPLAIN ANALYZE: the queue's section queries come from the
(status, created_at) index in about 1 ms each; the deep list page's OFFSET 60,000 reads
60,000 index entries (68 ms of database time, not CPU of ours); counting by status reads the
(vanished_at, status) index (migration 0012).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 0.5
TARGET_CPU_MS = 30.0
PER_PAGE = 100


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DEBUG"] = "1"
    os.environ["VAR_DIR"] = var_dir
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    # DEBUG=1 above only spares the production checks (secret key, hosts, HTTPS); measure
    # with DEBUG off, so templates come from the cached loader as in production.
    settings.DEBUG = False


STATUSES = [("authorized", 15), ("ported", 55), ("rejected", 15), ("canceled", 15)]
CARRIERS = ["Verizon Wireless", "T-Mobile", "AT&T Mobility", "Comcast Business", "Bell Canada"]
NAMES = ["Acme Dental", "Maple Bakery", "Union Roofing", "Cedar Law Group", "Pioneer Fitness"]
EVENT_TYPES = ["portout.status_changed", "portout.foc_date_changed", "portout.new_comment"]


def build(rows: int, pending: int) -> None:
    """`rows` port-outs created over the last year, `pending` of them (the newest ones,
    spread evenly) pending, each with its numbers and one to four events."""
    from django.core.management import call_command

    from portouts.models import PortOut, PortOutEvent, PortOutNumber

    call_command("migrate", verbosity=0)
    rng = random.Random(42)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    now = datetime.now(tz=UTC)
    step = timedelta(days=365) / rows
    start = now - timedelta(days=365)
    pending_every = max(1, rows // max(pending, 1))
    batch = 5000
    for offset in range(0, rows, batch):
        objs, numbers, events = [], [], []
        for i in range(offset, min(rows, offset + batch)):
            pid = f"bench-{i:07d}"
            count = rng.choice([1, 1, 1, 2, 3, 8])
            nums = [f"+1{rng.randint(200, 999)}555{(i * 7 + k) % 10_000:04d}" for k in range(count)]
            created = start + step * i
            foc = (created + timedelta(days=rng.randint(3, 20))).replace(hour=0, minute=0)
            status = rng.choice(statuses)
            if pending and i % pending_every == 0:
                status = "pending"
                created = now - timedelta(hours=rng.uniform(0, 30))
            objs.append(
                PortOut(
                    id=pid,
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
                    details_synced_at=now,
                    raw={"id": pid, "pad": "x" * 400},
                )
            )
            numbers += [(pid, n) for n in nums]
            for k in range(rng.randint(1, 4)):
                at = min(now, created + timedelta(hours=k * 6))
                kind = EVENT_TYPES[k % len(EVENT_TYPES)]
                events.append(
                    PortOutEvent(
                        id=f"ev-{i:07d}-{k}",
                        event_type=kind,
                        portout_id=pid,
                        payload={"id": pid, "status": status, "foc_date": foc.isoformat()},
                        payload_status=status if kind == "portout.status_changed" else "",
                        created_at=at,
                        updated_at=at,
                        source=PortOutEvent.Source.API,
                        processed_at=now,
                    )
                )
        PortOut.objects.bulk_create(objs)
        PortOutNumber.objects.bulk_create(
            [PortOutNumber(portout_id=pid, number=n) for pid, n in numbers]
        )
        PortOutEvent.objects.bulk_create(events)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(
    client, url: str, iterations: int, *, before=None, htmx: bool = False
) -> tuple[list[float], list[float], int, int]:
    """Server times of `iterations` requests of `url`; `before` runs (untimed) before each."""
    from django.db import connection

    headers = {"HX-Request": "true"} if htmx else {}
    before = before or (lambda: None)
    for _ in range(3):  # warm caches (templates, permissions, SQLite pages)
        before()
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code)
    queries = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    before()
    with connection.execute_wrapper(count):
        client.get(url, headers=headers)
    times, cpu = [], []
    for _ in range(iterations):
        before()
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
    return times, cpu, len(queries), len(response.content)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=500)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--database", help="measure on a database kept by --keep (no build)")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _throwaway_db import throwaway_database

    with tempfile.TemporaryDirectory(prefix="bench-list-var-") as var_dir:
        if args.database:
            setup_django(args.database, var_dir)
            return run(args)
        from _throwaway_db import postgres_url

        server = postgres_url()
        with throwaway_database("list", server, keep=args.keep) as url:
            setup_django(url, var_dir)
            return run(args)


def run(args: argparse.Namespace) -> int:
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from portouts.models import PortOut

    if PortOut not in admin.site._registry:
        print("PortOut is not registered in the admin (portouts/admin.py); nothing to compare.")
        return 2
    t0 = time.perf_counter()
    if args.database:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        build(args.rows, args.pending)
    rows = PortOut.objects.count()
    print(
        f"{connection.vendor}: {rows:,} port-outs ({args.pending} pending) ready in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    # The admin changelist columns: o=-7 is foc_date descending, o=8 created_at ascending.
    deep = (rows // PER_PAGE) * 6 // 10
    cases = [
        (
            "list filtered + sorted, page 1",
            f"/portouts/?status=rejected&o=-foc&per_page={PER_PAGE}",
            "/admin/portouts/portout/?status__exact=rejected&o=-7",
        ),
        (
            f"list deep page ({deep})",
            f"/portouts/?o=created&per_page={PER_PAGE}&page={deep}",
            f"/admin/portouts/portout/?o=8&p={deep}",
        ),
    ]
    oldest_pending = PortOut.objects.filter(status="pending").order_by("created_at").first()
    detail = f"/portouts/{oldest_pending.pk}/" if oldest_pending else "/portouts/bench-0000000/"
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
    pending_admin = "/admin/portouts/portout/?status__exact=pending"
    for name, ours, theirs in [*cases, ("queue (home)", "/", pending_admin)]:
        ours_p50, ours_cpu = line(client, name, "dashboard", ours, args.iterations)
        admin_p50, _ = line(client, name, "admin", theirs, args.iterations)
        ratio = ours_p50 / admin_p50
        met = ours_cpu < TARGET_CPU_MS and (name.startswith("queue") or ratio <= TARGET_RATIO)
        ok &= met
        print(f"{'':32} {'ratio':10} {ratio:8.2f}  {'target met' if met else 'TARGET MISSED'}")
    refresh_line(client, args.iterations)
    # The folded section's rows, read when a reviewer opens it (not part of the queue's cost).
    line(
        client,
        "queue, past window opened",
        "dashboard",
        "/queue/sections/past_window",
        args.iterations,
        htmx=True,
    )
    _, detail_cpu = line(client, "port-out page", "dashboard", detail, args.iterations)
    met = detail_cpu < TARGET_CPU_MS
    ok &= met
    print(f"{'':32} {'':10} {'':8}  {'target met' if met else 'TARGET MISSED'}")
    print(
        f"\nTargets: list p50 <= {TARGET_RATIO:.0%} of the admin's p50; list, queue and "
        f"port-out page CPU p50 < {TARGET_CPU_MS:.0f} ms: {'met' if ok else 'missed'}."
    )
    return 0 if ok else 1


def refresh_line(client: object, iterations: int) -> None:
    """The queue's refresh with the page's tokens after one pending port-out was synced
    again (renamed): it sends that row, the counts and the recent activity."""
    import html
    import re
    from urllib.parse import urlencode

    from django.utils import timezone

    from portouts.models import PortOut

    page = client.get("/").content.decode()  # type: ignore[attr-defined]
    found = re.search(r'hx-vals="([^"]*)"', page)
    assert found, "the queue has no poller"
    vals = json.loads(html.unescape(found.group(1)))
    url = f"/queue/refresh?{urlencode(vals)}"
    changed = PortOut.objects.filter(status="pending").order_by("-created_at").first()
    assert changed is not None

    def touch() -> None:
        PortOut.objects.filter(pk=changed.pk).update(
            synced_at=timezone.now(), end_user_name=f"Renamed {time.perf_counter_ns()}"
        )

    times, cpu, queries, size = timed(client, url, iterations, before=touch, htmx=True)
    print(
        f"{'queue refresh, 1 changed':32} {'dashboard':10} {pct(times, 50):8.1f} "
        f"{pct(times, 95):8.1f} {pct(cpu, 50):8.1f} {queries:8d} {size / 1024:6.1f}",
        flush=True,
    )


def line(
    client: object, name: str, label: str, url: str, iterations: int, *, htmx: bool = False
) -> tuple[float, float]:
    """Time one page (or, with `htmx`, a fragment), print its line; its wall and CPU p50 in ms."""
    times, cpu, queries, size = timed(client, url, iterations, htmx=htmx)
    print(
        f"{name:32} {label:10} {pct(times, 50):8.1f} {pct(times, 95):8.1f} "
        f"{pct(cpu, 50):8.1f} {queries:8d} {size / 1024:6.0f}",
        flush=True,
    )
    return pct(times, 50), pct(cpu, 50)


if __name__ == "__main__":
    raise SystemExit(main())
