"""Benchmark: the metrics page on 100,000 port-outs with a year of events, beside the naive
way (fetching the period's facts and aggregating them in Python).

    .venv/bin/python bench/metrics_page.py [--rows 100000] [--iterations 30]

On SQLite by default (a throwaway file); on PostgreSQL when DATABASE_URL points at one (a
throwaway database of its own, bench/_throwaway_db.py, created and dropped after).
Builds the port-outs over the last 365 days with their status and FOC events, derives the
facts the way the sync does (`facts_refresh`, timed: the cost per port-out), then times the
page (server side, Django's test Client) for the last 30 days, 90 days and a whole year,
with its query count, beside the naive aggregation of the same figures.
Target: the page under 200 ms p50 on PostgreSQL, with the same query count for every period.
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
TARGET_P50_MS = 200.0


def setup_django(url: str, var_dir: str) -> None:
    """Point Django at the throwaway database (bench/_throwaway_db.py)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DEBUG"] = "1"
    os.environ["VAR_DIR"] = var_dir
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False  # the cached template loader, as in production


CARRIERS = [("Verizon Wireless", "6006"), ("T-Mobile", "6529"), ("AT&T Mobility", "6214")]
CARRIERS += [("Comcast Business", "7510"), ("Bell Canada", "8051"), ("Lumen", "8826")]
# (final status, share, hours to the decision or None for Telnyx's timeout)
OUTCOMES = [("authorized", 45), ("ported", 25), ("rejected", 10), ("canceled", 8)]
OUTCOMES += [("timeout", 4), ("pending", 8)]


def build(rows: int, reviewers: list[object]) -> None:
    from portouts.models import PortOut, PortOutEvent, ReviewAction

    rng = random.Random(7)
    outcomes = [o for o, w in OUTCOMES for _ in range(w)]
    now = datetime.now(tz=UTC)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / rows
    batch = 5000
    for offset in range(0, rows, batch):
        portouts, events, actions = [], [], []
        for i in range(offset, min(rows, offset + batch)):
            pid = f"bench-{i:07d}"
            created = start + step * i
            outcome = rng.choice(outcomes)
            status = {"timeout": "authorized"}.get(outcome, outcome)
            carrier, spid = rng.choice(CARRIERS)
            decided = created + timedelta(hours=rng.uniform(0.2, 23))
            if outcome == "timeout":
                decided = created + timedelta(hours=24, minutes=1)
            portouts.append(
                PortOut(
                    id=pid,
                    status=status,
                    phone_numbers=[f"+1312555{i % 10_000:04d}"],
                    first_number=f"+1312555{i % 10_000:04d}",
                    number_count=1,
                    carrier_name=carrier,
                    spid=spid,
                    created_at=created,
                    inserted_at=created,
                    updated_at=decided,
                    synced_at=now,
                    details_synced_at=now,
                )
            )
            events.append(
                PortOutEvent(
                    id=f"{pid}-new",
                    event_type="portout.status_changed",
                    portout_id=pid,
                    payload={"id": pid, "status": "pending"},
                    created_at=created,
                    source="api",
                    processed_at=now,
                )
            )
            if status != "pending":
                events.append(
                    PortOutEvent(
                        id=f"{pid}-end",
                        event_type="portout.status_changed",
                        portout_id=pid,
                        payload={"id": pid, "status": status},
                        created_at=decided,
                        source="api",
                        processed_at=now,
                    )
                )
            if rng.random() < 0.1:
                events.append(
                    PortOutEvent(
                        id=f"{pid}-foc",
                        event_type="portout.foc_date_changed",
                        portout_id=pid,
                        payload={"id": pid},
                        created_at=created + timedelta(hours=2),
                        source="api",
                        processed_at=now,
                    )
                )
            if outcome in ("authorized", "rejected") and rng.random() < 0.8:
                actions.append(
                    ReviewAction(
                        portout_id=pid,
                        user=rng.choice(reviewers),
                        kind="authorize" if outcome == "authorized" else "reject",
                        inputs={"rejection_code": rng.choice([1001, 1002, 1005])},
                        outcome="succeeded",
                        finished_at=decided,
                    )
                )
        PortOut.objects.bulk_create(portouts)
        PortOutEvent.objects.bulk_create(events)
        created_actions = ReviewAction.objects.bulk_create(actions)
        for action in created_actions:  # auto_now_add: set the decision time afterwards
            action.created_at = action.finished_at
        ReviewAction.objects.bulk_update(created_actions, ["created_at"])


def naive(period: object) -> dict[str, object]:
    """The page's headline figures the obvious way: fetch the rows, aggregate in Python."""
    from portouts.models import PortOutFacts

    rows = list(
        PortOutFacts.objects.filter(
            decided_at__gte=period.since,  # type: ignore[attr-defined]
            decided_at__lt=period.until,  # type: ignore[attr-defined]
        ).values("outcome", "decided_via", "decided_by_id", "decision_seconds", "rejection")
    )
    seconds = sorted(
        r["decision_seconds"] for r in rows if r["decided_via"] in ("dashboard", "telnyx")
    )
    by_reviewer: dict[object, list[int]] = {}
    for r in rows:
        if r["decided_by_id"] is not None:
            by_reviewer.setdefault(r["decided_by_id"], []).append(r["decision_seconds"])
    return {
        "timeouts": sum(r["outcome"] == "timeout" for r in rows),
        "median": statistics.median(seconds) if seconds else None,
        "p90": statistics.quantiles(seconds, n=10)[-1] if len(seconds) > 1 else None,
        "reviewers": {k: statistics.median(v) for k, v in by_reviewer.items()},
    }


def timed(fn, iterations: int) -> list[float]:  # type: ignore[no-untyped-def]
    fn()
    times = []
    for _ in range(iterations):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(client, url: str, period: object, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """(page p50, page p95, queries per page, naive p50) in ms."""
    from django.db import connection

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        page()
    ours = timed(page, args.iterations)
    theirs = timed(lambda: naive(period), args.iterations)
    p95 = statistics.quantiles(ours, n=20)[-1] if len(ours) > 1 else ours[0]
    return statistics.median(ours), p95, len(queries), statistics.median(theirs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _throwaway_db import throwaway_database

    with (
        tempfile.TemporaryDirectory(prefix="bench-metrics-var-") as var_dir,
        throwaway_database("metrics", os.environ.get("DATABASE_URL")) as url,
    ):
        setup_django(url, var_dir)
        where = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        return run(args, where)


def run(args: argparse.Namespace, where: str) -> int:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from portouts.metrics.facts import facts_refresh
    from portouts.metrics.periods import Period, last_days
    from portouts.models import PortOut

    setup_test_environment()
    t0 = time.perf_counter()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    users = get_user_model()
    reviewers = [users.objects.create_user(username=f"reviewer{n}") for n in range(6)]
    build(args.rows, reviewers)
    print(
        f"{where}: {PortOut.objects.count():,} port-outs built in {time.perf_counter() - t0:.1f} s"
    )

    ids = list(PortOut.objects.values_list("id", flat=True))
    t0 = time.perf_counter()
    facts_refresh(ids)
    spent = time.perf_counter() - t0
    print(
        f"facts derived for {len(ids):,} port-outs in {spent:.1f} s "
        f"({spent / len(ids) * 1e6:.0f} µs per port-out)"
    )

    viewer = users.objects.create_user(username="bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(viewer)
    today = datetime.now(tz=UTC).date()
    cases = [
        ("last 30 days", "last=30", last_days(30)),
        ("last 90 days", "last=90", last_days(90)),
        (
            "a year",
            f"start={today - timedelta(days=364)}&end={today}",
            Period(today - timedelta(days=364), today),
        ),
    ]
    print(f"\n{args.iterations} requests each; server time in ms\n")
    header = (
        f"{'period':14} {'page p50':>9} {'p95':>8} {'queries':>8} {'naive p50':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    ok, query_counts = True, set()
    for name, query, period in cases:
        p50, p95, queries, naive_p50 = measure(client, f"/metrics/?{query}", period, args)
        query_counts.add(queries)
        ok &= p50 < TARGET_P50_MS
        print(
            f"{name:14} {p50:9.1f} {p95:8.1f} {queries:8d} {naive_p50:10.1f} {p50 / naive_p50:6.2f}"
        )
    same = len(query_counts) == 1
    print(
        f"\nThe naive column aggregates only the headline figures in Python, not the page. "
        f"Target: page p50 < {TARGET_P50_MS:.0f} ms ({'met' if ok else 'missed'}); "
        f"same query count for every period ({'yes' if same else 'NO'})."
    )
    return 0 if ok and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
