"""Benchmark: the metrics page on 100,000 port-outs with a year of events, risk flags and
outcome labels, beside the naive way (fetching the period's facts and aggregating them in
Python).

    .venv/bin/python bench/metrics_page.py [--rows 100000] [--iterations 30] [--profile]

On SQLite by default (a throwaway file); on PostgreSQL when BENCH_DATABASE_URL or
DATABASE_URL points at one (a throwaway database of its own, bench/_throwaway_db.py,
created and dropped after).
Builds the port-outs over the last 365 days with their status and FOC events, flags and
labels, derives the facts the way the sync does (`facts_refresh`, timed: the cost per
port-out), then times the page (server side, Django's test Client) for the last 7, 30 and
90 days and a whole year, with the chart cache warm and cold, and its query count, beside
the naive aggregation of the same headline figures. `--profile` adds where a warm year
page spends its time (cProfile) and PostgreSQL's plan of its slowest queries.
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


#: (flag kind, share of port-outs carrying it, chance a labelled one was fraud)
FLAGS = [("pin", 0.06, 0.5), ("new_carrier", 0.2, 0.08), ("off_hours", 0.3, 0.03)]
FLAGS += [("many_numbers", 0.05, 0.05), ("watchlist", 0.01, 0.7), ("no_customer", 0.1, 0.02)]
#: share of ended port-outs the team labels
LABELLED = 0.3


def flags_and_label(
    pid: str, status: str, rng: random.Random, reviewer: object, now: datetime
) -> tuple[list[object], list[object]]:
    """A port-out's risk flags and, for some ended ones, its outcome label."""
    from portouts.choices import FLAG_SEVERITY
    from portouts.models import PortOutOutcome, RiskFlag

    kinds = [(kind, fraud) for kind, share, fraud in FLAGS if rng.random() < share]
    flags = [
        RiskFlag(
            portout_id=pid,
            kind=kind,
            severity=FLAG_SEVERITY[kind],
            sentence=f"bench {kind}",
            computed_at=now,
        )
        for kind, _ in kinds
    ]
    if status == "pending" or rng.random() >= LABELLED:
        return flags, []
    fraud = rng.random() < max((chance for _, chance in kinds), default=0.01)
    label = "fraud" if fraud else rng.choice(["legitimate"] * 8 + ["customer_error", "unknown"])
    return flags, [PortOutOutcome(portout_id=pid, label=label, labelled_by=reviewer)]


def build(rows: int, reviewers: list[object]) -> None:
    from portouts.models import PortOut, PortOutEvent, PortOutOutcome, ReviewAction, RiskFlag

    rng = random.Random(7)
    outcomes = [o for o, w in OUTCOMES for _ in range(w)]
    now = datetime.now(tz=UTC)
    start = now - timedelta(days=365)
    step = timedelta(days=365) / rows
    batch = 5000
    for offset in range(0, rows, batch):
        portouts, events, actions, flags, labels = [], [], [], [], []
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
            raised, label = flags_and_label(pid, status, rng, reviewers[0], now)
            flags += raised
            labels += label
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
        RiskFlag.objects.bulk_create(flags)
        PortOutOutcome.objects.bulk_create(labels)
        created_actions = ReviewAction.objects.bulk_create(actions)
        for action in created_actions:  # auto_now_add: set the decision time afterwards
            action.created_at = action.finished_at
        ReviewAction.objects.bulk_update(created_actions, ["created_at"])


def analyze() -> None:
    """Give the planner its statistics, as autovacuum does for a table in service (right
    after the bulk load it would guess a few dozen rows and pick nested loops)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


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


def timed(fn, iterations: int, before=lambda: None) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per call of `fn` after one unmeasured call; `before` runs untimed."""
    fn()
    times = []
    for _ in range(iterations):
        before()
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def measure(client, url: str, period: object, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """(warm p50, warm p95, cold p50, queries per page, naive p50) in ms; cold is with
    the chart cache emptied before each request, so every chart is drawn again."""
    from django.core.cache import cache
    from django.db import connection

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    queries: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        queries.append(sql)
        return execute(sql, params, many, context)

    page()  # the first request of a session writes it; count a later one
    with connection.execute_wrapper(count):
        page()
    warm = timed(page, args.iterations)
    cold = timed(page, args.iterations, before=cache.clear)
    theirs = timed(lambda: naive(period), args.iterations)
    p95 = statistics.quantiles(warm, n=20)[-1] if len(warm) > 1 else warm[0]
    return (
        statistics.median(warm),
        p95,
        statistics.median(cold),
        len(queries),
        statistics.median(theirs),
    )


def profile(client, url: str, where: str) -> None:  # type: ignore[no-untyped-def]
    """Where one warm request spends its time: the functions, then each query's time (and
    on PostgreSQL the plan of the slowest two)."""
    import cProfile
    import io
    import pstats

    from django.db import connection

    profiler = cProfile.Profile()
    profiler.runcall(client.get, url)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())
    timings: list[tuple[float, str, object]] = []

    def timing(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(((time.perf_counter() - t0) * 1000, sql, params))

    with connection.execute_wrapper(timing):
        client.get(url)
    timings.sort(key=lambda t: t[0], reverse=True)
    print(f"queries of {url}, slowest first (ms): total {sum(t[0] for t in timings):.1f}")
    for ms, sql, _ in timings:
        print(f"{ms:8.1f}  {' '.join(sql.split())[:150]}")
    if where == "PostgreSQL":
        with connection.cursor() as cursor:
            for _, sql, params in timings[:2]:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                print("\n" + "\n".join(row[0] for row in cursor.fetchall()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="profile a warm year page")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _throwaway_db import postgres_url, throwaway_database

    with (
        tempfile.TemporaryDirectory(prefix="bench-metrics-var-") as var_dir,
        throwaway_database("metrics", postgres_url(), keep=args.keep) as url,
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

    analyze()
    viewer = users.objects.create_user(username="bench", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(viewer)
    today = datetime.now(tz=UTC).date()
    cases = [(f"last {days} days", f"last={days}", last_days(days)) for days in (7, 30, 90)]
    year = Period(today - timedelta(days=364), today)
    cases.append(("a year", year.query(), year))
    print(f"\n{args.iterations} requests each; server time in ms\n")
    header = (
        f"{'period':14} {'page p50':>9} {'p95':>8} {'cold p50':>9} {'queries':>8} "
        f"{'naive p50':>10} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    ok, query_counts = True, set()
    for name, query, period in cases:
        p50, p95, cold, queries, naive_p50 = measure(client, f"/metrics/?{query}", period, args)
        query_counts.add(queries)
        ok &= p50 < TARGET_P50_MS
        print(
            f"{name:14} {p50:9.1f} {p95:8.1f} {cold:9.1f} {queries:8d} {naive_p50:10.1f} "
            f"{p50 / naive_p50:6.2f}"
        )
    same = len(query_counts) == 1
    if args.profile:
        profile(client, f"/metrics/?{year.query()}", where)
    print(
        f"\nThe page columns are with the chart cache warm, cold with it emptied before each "
        f"request. The naive column aggregates only the headline figures in Python, not the "
        f"page. Target: page p50 < {TARGET_P50_MS:.0f} ms ({'met' if ok else 'missed'}); "
        f"same query count for every period ({'yes' if same else 'NO'})."
    )
    return 0 if ok and same else 1


if __name__ == "__main__":
    raise SystemExit(main())
