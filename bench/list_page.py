"""Benchmark: the port-out list page beside the Django admin changelist, on 100,000 port-outs.

    .venv/bin/python bench/list_page.py [--rows 100000] [--iterations 60] [--keep]

Builds a throwaway SQLite database (DATABASE_URL is set before django.setup()), bulk-creates
the port-outs with their numbers, signs in a staff reviewer through Django's test Client and
times each request on the server side (middleware, queries, template rendering), for:

- a filtered and sorted first page (pending, latest FOC first, 100 rows),
- a deep page (sorted by creation, page 600 of 1,000 at 100 rows),

on the dashboard (/portouts/) and on the admin changelist of PortOut (same rows per page,
same filter and order), in the same run. Prints p50/p95 and the queries per request.
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


def setup_django(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
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


def timed(client, url: str, iterations: int) -> tuple[list[float], list[float], int, int]:
    from django.db import connection

    for _ in range(3):  # warm caches (templates, permissions, SQLite pages)
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    queries = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(url)
    times, cpu = [], []
    for _ in range(iterations):
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert response.status_code == 200
    return times, cpu, len(queries), len(response.content)


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--db", help="reuse a database kept by an earlier --keep run")
    args = parser.parse_args()

    db_path = args.db or os.path.join(tempfile.mkdtemp(prefix="bench-list-"), "bench.sqlite3")
    setup_django(db_path)

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
    print(f"{rows:,} port-outs ready in {time.perf_counter() - t0:.1f} s ({db_path})")
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
    for name, ours, theirs in cases:
        results = {}
        for label, url in (("dashboard", ours), ("admin", theirs)):
            times, cpu, queries, size = timed(client, url, args.iterations)
            results[label] = pct(times, 50)
            print(
                f"{name:32} {label:10} {pct(times, 50):8.1f} {pct(times, 95):8.1f} "
                f"{pct(cpu, 50):8.1f} {queries:8d} {size / 1024:6.0f}"
            )
        ratio = results["dashboard"] / results["admin"]
        met = results["dashboard"] < TARGET_P50_MS and ratio <= TARGET_RATIO
        ok &= met
        print(f"{'':32} {'ratio':10} {ratio:8.2f}  {'target met' if met else 'TARGET MISSED'}")
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
