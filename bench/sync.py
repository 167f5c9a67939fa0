"""Benchmark: the sync (bulk, concurrent) beside a naive sync, and the full sync on a Telnyx
failing a quarter of requests, against the sandbox on loopback.

    .venv/bin/python bench/sync.py [--count 10000] [--changes 10]
                                   [--page-workers N] [--detail-workers N]
                                   [--only {bulk,naive,faults} ...]

The sandbox runs in a process of its own (so it does not share a GIL with the sync's
threads), on a free loopback port chosen beforehand, seeded afresh with `--count`
port-outs for each full sync. Each sync runs in a child process of its own (a fresh
throwaway database, DATABASE_URL set before django.setup(): SQLite, or a PostgreSQL
database of its own when DATABASE_URL points at one, see bench/_throwaway_db.py) so its
peak RSS is its own. `--only` picks the parts to run (default: all three). Figures printed:

1. (bulk) full sync of the whole account with comments, documents, rejection codes and
   the events of the last SYNC_EVENTS_WINDOW_DAYS — wall time, HTTP requests (counted on
   the wire, retries included), requests per port-out, database queries, peak RSS; then
   an incremental sync after `--changes` changes (status, FOC date, comments, a new
   port-out) in the account synced by it — requests and time;
2. (naive) the same full sync done the naive way against a freshly seeded sandbox:
   sequential pages, one update_or_create per row (and per number, comment, document,
   code, event), comments/documents fetched one port-out at a time;
3. (faults) the same bulk full sync against a freshly seeded sandbox injecting FAULTS
   (429s with Retry-After: 1, 500/503s, dropped connections; no slow replies) into about
   a quarter of requests, with the client's default retries (TELNYX_MAX_RETRIES) and its
   real backoff waits — whether it succeeded in one run, wall time, requests on the wire,
   retries (requests on the wire minus the run's logical calls) beside the sandbox's own
   fault counters, port-outs left `details_stale`, requests per port-out, the run's
   counts; then the cache compared with the sandbox's own state: status, comment ids and
   document ids of every port-out not marked `details_stale` (a status the sandbox's clock
   changed after the run began is reported apart, not counted as a mismatch).

Targets: full >= 5x faster than naive; incremental <= 4 requests per changed port-out plus
its two listings, and < 1 s, for 10 changes (each changed port-out is read in full: row,
comments, documents and, while pending, codes, so the events it settles are true); under
faults the full sync completes in one run and the cache has 0 mismatches.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from _throwaway_db import is_postgres, throwaway_database  # noqa: E402

API_KEY = "KEYbench_sync"
PARTS = ("bulk", "naive", "faults")
#: the sandbox's fault options for part 3: the sandbox rolls drop, then 429, then 500/503,
#: so 1 - 0.91**3 = 24.6 % of requests fail (each Retry-After: 1 makes the client wait 1 s)
FAULTS = {
    "drop_ratio": 0.09,
    "rate_limit_ratio": 0.09,
    "retry_after": 1,
    "error_ratio": 0.09,
    "seed": 7,
}


# --------------------------------------------------------------------------- child side


def _child(
    mode: str,
    db_path: str,
    base_url: str,
    var_dir: str,
    workers: tuple[int, int],
    dump: str | None = None,
) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = db_path if "://" in db_path else f"sqlite:///{db_path}"
    os.environ["VAR_DIR"] = var_dir
    os.environ.setdefault("DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from portouts import sync
    from portouts.models import Comment, PortOut, PortOutEvent, SyncRun
    from portouts.telnyx import TelnyxClient

    _set_workers(sync, *workers)

    if mode != "incremental":
        call_command("migrate", verbosity=0)

    # The client as the product builds it: TELNYX_TIMEOUT, TELNYX_MAX_RETRIES (default 3)
    # and the real backoff waits.
    client = TelnyxClient(
        API_KEY,
        base_url=base_url,
        timeout=settings.TELNYX_TIMEOUT,
        max_retries=settings.TELNYX_MAX_RETRIES,
    )
    warnings = _count_sync_warnings()
    requests = {"n": 0}

    def count_request(request: Any) -> None:
        requests["n"] += 1

    client._http.event_hooks["request"].append(count_request)  # bench only: wire-level count
    queries = {"n": 0}

    def count_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries["n"] += 1
        return execute(sql, params, many, context)

    error = ""
    began = time.time()
    with connection.execute_wrapper(count_query):
        started = time.perf_counter()
        try:
            if mode in ("fast", "faults"):
                sync.run_full_sync(client=client, triggered_by="bench")
            elif mode == "incremental":
                run = sync.run_incremental_sync(client=client, triggered_by="bench")
                assert run.kind == "incremental", run.kind
            else:
                _naive_full_sync(client)
        except Exception as exc:  # reported by the parent; a fault-free run must not fail
            if mode != "faults":
                raise
            error = f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
    client.close()
    figures: dict[str, Any] = {
        "wall": wall,
        "requests": requests["n"],
        "queries": queries["n"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "portouts": PortOut.objects.count(),
        "comments": Comment.objects.count(),
        "events": PortOutEvent.objects.count(),
        "max_retries": client.max_retries,
        "timeout": client.timeout,
        "began": began,
        "error": error,
        "warnings": dict(warnings),
    }
    run = SyncRun.objects.order_by("-started_at", "-pk").first()
    if run is not None and mode != "naive":
        figures |= {
            "runs": SyncRun.objects.filter(kind=run.kind).count(),
            "status": run.status,
            "run_error": run.error,
            "api_requests": run.api_requests,
            "counts": run.counts,
        }
    figures["stale"] = PortOut.objects.filter(details_stale=True).count()
    if dump:
        _dump_cache(Path(dump))
    return figures


def _count_sync_warnings() -> Any:
    """Counts of the sync's warnings by message template ("Listing page %d failed ...")."""
    import logging
    from collections import Counter

    counts: Counter[str] = Counter()

    class Counting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            counts[str(record.msg)] += 1

    logger = logging.getLogger("portouts.sync")
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    logger.addHandler(Counting(logging.WARNING))
    return counts


def _dump_cache(path: Path) -> None:
    """{id: [status, comment ids, document ids, details_stale]} of the cache, as JSON."""
    from portouts.models import Comment, PortOut, SupportingDocument

    rows: dict[str, list[Any]] = {
        pid: [status, [], [], stale]
        for pid, status, stale in PortOut.objects.values_list("id", "status", "details_stale")
    }
    for pk, pid in Comment.objects.values_list("id", "portout_id"):
        rows.setdefault(pid, [None, [], [], False])[1].append(pk)
    for pk, pid in SupportingDocument.objects.values_list("id", "portout_id"):
        rows.setdefault(pid, [None, [], [], False])[2].append(pk)
    path.write_text(json.dumps(rows))


def _set_workers(sync: Any, page_workers: int, detail_workers: int) -> None:
    """Thread counts of the bulk full sync (0 = the sync's own)."""
    if page_workers:
        sync.full.PAGE_WORKERS = page_workers
        sync.full.PAGE_WINDOW = 2 * page_workers
    if detail_workers:
        sync.full.DETAIL_WORKERS = detail_workers


def _naive_full_sync(client: Any) -> None:
    """The straightforward way: page after page, row after row, request after request."""
    from django.conf import settings
    from django.utils import timezone

    from portouts import sync
    from portouts.models import (
        Comment,
        PortOut,
        PortOutEvent,
        PortOutNumber,
        RejectionCode,
        SupportingDocument,
    )

    now = timezone.now()
    since = now - timedelta(days=settings.SYNC_EVENTS_WINDOW_DAYS)
    number = 1
    while True:
        events = client.list_events_page(
            page_number=number, created_at_gte=since, created_at_lte=now
        )
        for e in events.data:
            PortOutEvent.objects.get_or_create(
                id=e.id,
                defaults={
                    "event_type": e.event_type or "",
                    "portout_id": e.portout_id or "",
                    "payload": e.payload,
                    "payload_status": e.payload_status or "",
                    "available_notification_methods": e.available_notification_methods,
                    "created_at": e.created_at,
                    "updated_at": e.updated_at,
                    "source": PortOutEvent.Source.API,
                    "processed_at": now,
                },
            )
        if not events.has_next:
            break
        number += 1

    fields = [f.name for f in PortOut._meta.concrete_fields if f.name != "id"]
    number = 1
    while True:
        page = client.list_portouts_page(page_number=number)
        for item in page.data:
            row = sync._build_row(item, None, now)
            if row is None:
                continue
            defaults = {name: getattr(row, name) for name in fields}
            portout, _ = PortOut.objects.update_or_create(id=row.id, defaults=defaults)
            PortOutNumber.objects.filter(portout=portout).delete()
            for n in row.phone_numbers:
                PortOutNumber.objects.get_or_create(portout=portout, number=n)
            for c in client.list_comments(row.id):
                Comment.objects.update_or_create(
                    id=c.id,
                    defaults={
                        "portout": portout,
                        "body": c.body or "",
                        "user_id": c.user_id or "",
                        "created_at": c.created_at,
                        "raw": c.raw,
                    },
                )
            for d in client.list_supporting_documents(row.id):
                SupportingDocument.objects.update_or_create(
                    id=d.id,
                    defaults={
                        "portout": portout,
                        "type": d.type or "",
                        "document_id": d.document_id or "",
                        "created_at": d.created_at,
                        "updated_at": d.updated_at,
                        "raw": d.raw,
                    },
                )
            if row.status == "pending":
                for code in client.list_rejection_codes(row.id):
                    RejectionCode.objects.update_or_create(
                        portout=portout,
                        code=code.code,
                        defaults={
                            "description": code.description or "",
                            "reason_required": code.reason_required,
                        },
                    )
            PortOut.objects.filter(id=row.id).update(details_synced_at=now)
        if not page.has_next:
            break
        number += 1


# --------------------------------------------------------------------------- sandbox process


def _serve_sandbox(port: int, count: int) -> None:
    """The sandbox process: serve on `port`, then read commands from stdin, answering each
    with one JSON line (the seeded figures, or what the command says); exit at end of input.

    "changes N": make N changes; "faults {JSON}": inject faults with these FaultConfig
    options from now on, counters cleared; "faults off": stop injecting, answer the
    counters; "snapshot PATH": write {id: [status, comment ids, document ids, updated_ts]}
    of every port-out to PATH."""
    sys.path.insert(0, str(ROOT))
    from telnyx_sandbox.server import SandboxServer

    server = SandboxServer(
        port=port, seed_count=count, seed=1, api_key=API_KEY, reject_delay=3600, tick_interval=5
    )
    server.start()
    try:
        for line in sys.stdin:
            command, _, arg = line.strip().partition(" ")
            if command == "changes":
                _make_changes(server.state, int(arg))
            elif command == "faults" and arg == "off":
                counts = dict(server.faults.counts)
                server.faults.reset()
                print(json.dumps({"faults": counts}), flush=True)
                continue
            elif command == "faults":
                server.faults.reset()
                config = server.faults.configure(**json.loads(arg))
                print(json.dumps({"faults": vars(config)}), flush=True)
                continue
            elif command == "snapshot":
                print(json.dumps({"portouts": _snapshot(server.state, Path(arg))}), flush=True)
                continue
            state = server.state
            with state.lock:
                # The full sync stores the window's events up to its start; those dated
                # later (the seed has a few in the future) come with the next incremental.
                now = state.now()
                reply = {
                    "comments": sum(len(c) for c in state.comments.values()),
                    "events": sum(
                        1 for e in state.events.values() if now - 30 * 86400 <= e.created_ts <= now
                    ),
                }
            print(json.dumps(reply), flush=True)
    finally:
        server.stop()


def _snapshot(state: Any, path: Path) -> int:
    with state.lock:
        rows = {
            po.id: [
                po.status,
                [c.id for c in state.comments.get(po.id, ())],
                [d.id for d in state.supporting_documents.get(po.id, ())],
                po.updated_ts,
            ]
            for po in state.portouts.values()
        }
    path.write_text(json.dumps(rows))
    return len(rows)


class Sandbox:
    """A freshly seeded sandbox in a process of its own, on a free port found beforehand."""

    def __init__(self, count: int) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v2"
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-sandbox", str(self.port), "--count", str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self._wait_until_it_answers()

    def _wait_until_it_answers(self, timeout: float = 300) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the sandbox exited with {self.proc.returncode}")
            try:
                response = httpx.get(
                    f"{self.base_url}/portouts",
                    params={"page[size]": 1},
                    headers={"Authorization": f"Bearer {API_KEY}"},
                    timeout=5,
                )
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the sandbox did not answer in time")
            time.sleep(0.2)

    def command(self, line: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- parent side


@contextmanager
def _database(name: str, tmpdir: Path) -> Iterator[str]:
    """A SQLite file under tmpdir, or a throwaway PostgreSQL database (DATABASE_URL)."""
    server = os.environ.get("DATABASE_URL")
    if not is_postgres(server):
        yield str(tmpdir / f"{name}.sqlite3")
        return
    with throwaway_database(f"sync_{name}", server) as url:
        yield url


def _run_child(
    mode: str,
    db_path: Path | str,
    base_url: str,
    var_dir: Path,
    workers: tuple[int, int],
    dump: Path | None = None,
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--db",
        str(db_path),
        "--base-url",
        base_url,
        "--var-dir",
        str(var_dir),
        "--page-workers",
        str(workers[0]),
        "--detail-workers",
        str(workers[1]),
    ]
    if dump is not None:
        command += ["--dump", str(dump)]
    out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-5000:])
        raise RuntimeError(f"the {mode} child exited with {out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _make_changes(state: Any, count: int) -> None:
    """Realistic mix: status changes, FOC moves, comments, and one new port-out."""
    with state.lock:
        pending = [p.id for p in state.portouts.values() if p.status == "pending"]
    n_new = 1
    n_comment = (count - n_new) // 3
    n_foc = (count - n_new) // 3
    n_status = count - n_new - n_comment - n_foc
    picks = iter(pending)
    for _ in range(n_status):
        state.change_status(next(picks), "canceled")
    for i in range(n_foc):
        state.change_foc_date(next(picks), datetime.now(UTC) + timedelta(days=5 + i))
    for _ in range(n_comment):
        state.add_comment(next(picks), "Gaining carrier asks for an updated LOA.")
    for _ in range(n_new):
        state.create_portout()


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def _check(name: str, figures: dict[str, Any], count: int, expected: dict[str, Any]) -> None:
    if (figures["portouts"], figures["comments"], figures["events"]) != (
        count,
        expected["comments"],
        expected["events"],
    ):
        print(
            f"  ! the {name} sync stored {figures['portouts']} port-outs, "
            f"{figures['comments']} comments, {figures['events']} events; the sandbox has "
            f"{count}, {expected['comments']}, {expected['events']} (events of 30 days)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--page-workers", type=int, default=0, help="0: the sync's own")
    parser.add_argument("--detail-workers", type=int, default=0, help="0: the sync's own")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="parts to run (default: all): bulk = full sync + incremental, naive, faults",
    )
    parser.add_argument("--child", choices=["fast", "naive", "incremental", "faults"])
    parser.add_argument("--serve-sandbox", type=int, metavar="PORT")
    parser.add_argument("--db")
    parser.add_argument("--base-url")
    parser.add_argument("--var-dir")
    parser.add_argument("--dump", help="child: write the cache's ids here (JSON)")
    args = parser.parse_args()
    workers = (args.page_workers, args.detail_workers)
    if args.serve_sandbox:
        _serve_sandbox(args.serve_sandbox, args.count)
        return
    if args.child:
        figures = _child(args.child, args.db, args.base_url, args.var_dir, workers, args.dump)
        print(json.dumps(figures))
        return

    parts = set(args.only)
    print(f"{os.cpu_count()} CPUs, {_load()}; {args.count:,} port-outs per sandbox", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        tmpdir = Path(tmp)
        fast = naive = None
        if "bulk" in parts:
            fast = _bench_bulk(args, tmpdir, workers)
        if "naive" in parts:
            naive = _bench_naive(args, tmpdir, workers)
        if "faults" in parts:
            _bench_faults(args, tmpdir, workers)

    if fast is not None and naive is not None:
        print(
            f"  -> bulk is {naive['wall'] / fast['wall']:.1f}x faster, "
            f"{naive['queries'] / max(fast['queries'], 1):.0f}x fewer queries, "
            f"{naive['requests'] / max(fast['requests'], 1):.1f}x fewer requests "
            f"(target >= 5x faster); {_load()}"
        )


def _bench_bulk(args: Any, tmpdir: Path, workers: tuple[int, int]) -> dict[str, Any]:
    fast_var = tmpdir / "var-fast"
    with Sandbox(args.count) as sandbox, _database("fast", tmpdir) as fast_db:
        seeded = sandbox.command("stats")
        print(
            f"Sandbox process at {sandbox.base_url}: {seeded['comments']:,} comments, "
            f"{seeded['events']:,} events in 30 days; {_load()}",
            flush=True,
        )
        fast = _run_child("fast", fast_db, sandbox.base_url, fast_var, workers)
        print(_line("Full sync (bulk, concurrent)", fast), flush=True)
        print(
            f"  -> {fast['requests'] / args.count:.2f} requests per port-out "
            f"({fast['requests']:,} requests, {args.count:,} port-outs)",
            flush=True,
        )
        _check("bulk", fast, args.count, seeded)

        # The sandbox's clock may have moved port-outs on meanwhile (FOC dates reached,
        # ...): catch up first so only our changes are measured.
        catch_up = _run_child("incremental", fast_db, sandbox.base_url, fast_var, workers)
        print(_line("Incremental catching up", catch_up))
        sandbox.command(f"changes {args.changes}")
        inc = _run_child("incremental", fast_db, sandbox.base_url, fast_var, workers)
        print(_line(f"Incremental after {args.changes} changes", inc))
        ok = inc["requests"] <= 2 + 4 * args.changes and inc["wall"] < 1.0
        print(
            f"  -> {inc['requests']} requests, {inc['wall'] * 1000:.0f} ms "
            f"(target <= {2 + 4 * args.changes} requests and < 1 s: {'met' if ok else 'NOT met'})",
            flush=True,
        )
    return fast


def _bench_naive(args: Any, tmpdir: Path, workers: tuple[int, int]) -> dict[str, Any]:
    with Sandbox(args.count) as sandbox, _database("naive", tmpdir) as naive_db:
        seeded = sandbox.command("stats")
        print(f"Sandbox process reseeded at {sandbox.base_url}; {_load()}", flush=True)
        naive = _run_child("naive", naive_db, sandbox.base_url, tmpdir / "var-naive", workers)
        print(_line("Full sync (naive)", naive), flush=True)
        _check("naive", naive, args.count, seeded)
    return naive


def _bench_faults(args: Any, tmpdir: Path, workers: tuple[int, int]) -> dict[str, Any]:
    """The bulk full sync with about a quarter of requests failing, then the cache
    compared with the sandbox."""
    cache_dump, sandbox_dump = tmpdir / "faults-cache.json", tmpdir / "faults-sandbox.json"
    with Sandbox(args.count) as sandbox, _database("faults", tmpdir) as faults_db:
        seeded = sandbox.command("stats")
        config = sandbox.command("faults " + json.dumps(FAULTS))["faults"]
        shown = ", ".join(f"{k}={v}" for k, v in config.items() if v)
        print(f"Sandbox process reseeded at {sandbox.base_url} with faults: {shown}; {_load()}")
        print("  (real backoff waits: this part takes minutes)", flush=True)
        f = _run_child(
            "faults",
            faults_db,
            sandbox.base_url,
            tmpdir / "var-faults",
            workers,
            dump=cache_dump,
        )
        faults: dict[str, int] = sandbox.command("faults off")["faults"]
        sandbox.command(f"snapshot {sandbox_dump}")
    print(_line("Full sync under faults", f), flush=True)
    logical = f.get("api_requests", 0)
    retries = f["requests"] - logical
    failed = sum(faults.values())
    one_run = f.get("status") == "succeeded" and f.get("runs") == 1 and not f["error"]
    print(
        f"  -> {'succeeded in one run' if one_run else 'did NOT succeed in one run'} "
        f"(status {f.get('status')}, {f.get('runs')} full run(s)); "
        f"client max_retries={f['max_retries']}, timeout {f['timeout']:g} s"
    )
    if f["error"] or f.get("run_error"):
        print(f"  ! error: {f['error'] or f.get('run_error')}")
    print(
        f"  -> {f['wall']:.1f} s, {f['requests']:,} requests on the wire = {logical:,} "
        f"logical calls + {retries:,} retries; {f['requests'] / args.count:.2f} requests "
        f"per port-out"
    )
    print(
        f"  -> the sandbox failed {failed:,} requests ({failed / max(f['requests'], 1):.1%} "
        f"of those on the wire): "
        + ", ".join(f"{kind} x{n:,}" for kind, n in sorted(faults.items()))
    )
    counts = f.get("counts", {})
    print(
        f"  -> {f['stale']:,} port-outs left details_stale; run counts: "
        + ", ".join(f"{k}={v:,}" for k, v in sorted(counts.items()))
    )
    if f["warnings"]:
        print(
            "  -> sync warnings: "
            + "; ".join(f"{n:,} x {msg!r}" for msg, n in sorted(f["warnings"].items()))
        )
    # Comments are compared below (a stale port-out may lack some); port-outs and events here.
    if (f["portouts"], f["events"]) != (args.count, seeded["events"]):
        print(
            f"  ! the faulted sync stored {f['portouts']:,} port-outs, {f['events']:,} events; "
            f"the sandbox has {args.count:,}, {seeded['events']:,} (events of 30 days)"
        )
    f["mismatches"] = _compare(
        json.loads(cache_dump.read_text()), json.loads(sandbox_dump.read_text()), f["began"]
    )
    return f


def _compare(cache: dict[str, list[Any]], api: dict[str, list[Any]], began: float) -> int:
    """Print and return the mismatches between the cache and the sandbox: port-outs missing
    or extra, or (unless marked details_stale) a different status, comment or document ids."""
    missing = [pid for pid in api if pid not in cache]
    extra = [pid for pid in cache if pid not in api]
    stale = changed_meanwhile = 0
    different: dict[str, list[str]] = {"status": [], "comments": [], "documents": []}
    for pid, (status, comments, documents, updated_ts) in api.items():
        if pid not in cache:
            continue
        c_status, c_comments, c_documents, c_stale = cache[pid]
        if c_stale:
            stale += 1
            continue
        if c_status != status:
            if updated_ts >= began:  # the sandbox's clock moved it after the run began
                changed_meanwhile += 1
            else:
                different["status"].append(pid)
        if sorted(c_comments) != sorted(comments):
            different["comments"].append(pid)
        if sorted(c_documents) != sorted(documents):
            different["documents"].append(pid)
    mismatches = len(missing) + len(extra) + len({p for ids in different.values() for p in ids})
    compared = len(api) - len(missing) - stale
    print(
        f"  -> cache vs sandbox: {mismatches} mismatches (target 0) over {compared:,} port-outs "
        f"compared (status, comment ids, document ids); {stale:,} details_stale skipped"
        + (
            f"; {changed_meanwhile} changed by the sandbox during the run"
            if changed_meanwhile
            else ""
        ),
        flush=True,
    )
    if mismatches:
        print(
            f"  ! {len(missing)} missing, {len(extra)} extra, "
            + ", ".join(f"{len(ids)} with other {what}" for what, ids in different.items())
            + "; e.g. "
            + ", ".join((missing + extra + [p for ids in different.values() for p in ids])[:5])
        )
    return mismatches


def _line(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label:<34} {f['wall']:8.2f} s  {f['requests']:7,} requests  "
        f"{f['queries']:8,} queries  peak RSS {f['peak_rss_mb']:6.0f} MB  "
        f"({f['portouts']:,} port-outs, {f['comments']:,} comments, {f['events']:,} events)"
    )


if __name__ == "__main__":
    main()
