"""Benchmark: the sync (bulk, concurrent) beside a naive sync, against the sandbox on loopback.

    .venv/bin/python bench/sync.py [--count 10000] [--changes 10]
                                   [--page-workers N] [--detail-workers N]

The sandbox runs in a process of its own (so it does not share a GIL with the sync's
threads), on a free loopback port chosen beforehand, seeded afresh with `--count`
port-outs for each full sync. Each sync runs in a child process of its own (a fresh
throwaway SQLite database, DATABASE_URL set before django.setup()) so its peak RSS is its
own. Figures printed:

1. full sync of the whole account with comments, documents, rejection codes and the
   events of the last SYNC_EVENTS_WINDOW_DAYS — wall time, HTTP requests (counted on the
   wire, retries included), database queries, peak RSS;
2. an incremental sync after `--changes` changes (status, FOC date, comments, a new
   port-out) in the account synced by (1) — requests and time;
3. the same full sync done the naive way against a freshly seeded sandbox: sequential
   pages, one update_or_create per row (and per number, comment, document, code, event),
   comments/documents fetched one port-out at a time.

Targets: full >= 5x faster than naive; incremental <= 15 requests and < 1 s for 10 changes.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "KEYbench_sync"


# --------------------------------------------------------------------------- child side


def _child(
    mode: str, db_path: str, base_url: str, var_dir: str, workers: tuple[int, int]
) -> dict[str, Any]:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["VAR_DIR"] = var_dir
    os.environ.setdefault("DEBUG", "1")
    os.environ["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    os.environ["LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from portouts import sync
    from portouts.models import Comment, PortOut, PortOutEvent
    from portouts.telnyx import TelnyxClient

    _set_workers(sync, *workers)

    if mode != "incremental":
        call_command("migrate", verbosity=0)

    client = TelnyxClient(API_KEY, base_url=base_url)
    requests = {"n": 0}

    def count_request(request: Any) -> None:
        requests["n"] += 1

    client._http.event_hooks["request"].append(count_request)  # bench only: wire-level count
    queries = {"n": 0}

    def count_query(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries["n"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count_query):
        started = time.perf_counter()
        if mode == "fast":
            sync.run_full_sync(client=client, triggered_by="bench")
        elif mode == "incremental":
            run = sync.run_incremental_sync(client=client, triggered_by="bench")
            assert run.kind == "incremental", run.kind
        else:
            _naive_full_sync(client)
        wall = time.perf_counter() - started
    client.close()
    return {
        "wall": wall,
        "requests": requests["n"],
        "queries": queries["n"],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "portouts": PortOut.objects.count(),
        "comments": Comment.objects.count(),
        "events": PortOutEvent.objects.count(),
    }


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
    """The sandbox process: serve on `port`, then read commands from stdin
    ("changes N"), answering each with one JSON line; exit at end of input."""
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


def _run_child(
    mode: str, db_path: Path, base_url: str, var_dir: Path, workers: tuple[int, int]
) -> dict[str, Any]:
    out = subprocess.run(
        [
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
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
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
    parser.add_argument("--child", choices=["fast", "naive", "incremental"])
    parser.add_argument("--serve-sandbox", type=int, metavar="PORT")
    parser.add_argument("--db")
    parser.add_argument("--base-url")
    parser.add_argument("--var-dir")
    args = parser.parse_args()
    workers = (args.page_workers, args.detail_workers)
    if args.serve_sandbox:
        _serve_sandbox(args.serve_sandbox, args.count)
        return
    if args.child:
        print(json.dumps(_child(args.child, args.db, args.base_url, args.var_dir, workers)))
        return

    print(f"{os.cpu_count()} CPUs, {_load()}; {args.count:,} port-outs per sandbox", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        tmpdir = Path(tmp)
        fast_db, fast_var = tmpdir / "fast.sqlite3", tmpdir / "var-fast"
        with Sandbox(args.count) as sandbox:
            seeded = sandbox.command("stats")
            print(
                f"Sandbox process at {sandbox.base_url}: {seeded['comments']:,} comments, "
                f"{seeded['events']:,} events in 30 days; {_load()}",
                flush=True,
            )
            fast = _run_child("fast", fast_db, sandbox.base_url, fast_var, workers)
            print(_line("Full sync (bulk, concurrent)", fast), flush=True)
            _check("bulk", fast, args.count, seeded)

            # The sandbox's clock may have moved port-outs on meanwhile (FOC dates reached,
            # ...): catch up first so only our changes are measured.
            catch_up = _run_child("incremental", fast_db, sandbox.base_url, fast_var, workers)
            print(_line("Incremental catching up", catch_up))
            sandbox.command(f"changes {args.changes}")
            inc = _run_child("incremental", fast_db, sandbox.base_url, fast_var, workers)
            print(_line(f"Incremental after {args.changes} changes", inc))
            ok = inc["requests"] <= 15 and inc["wall"] < 1.0
            print(
                f"  -> {inc['requests']} requests, {inc['wall'] * 1000:.0f} ms "
                f"(target <= 15 requests and < 1 s: {'met' if ok else 'NOT met'})",
                flush=True,
            )

        with Sandbox(args.count) as sandbox:
            seeded = sandbox.command("stats")
            print(f"Sandbox process reseeded at {sandbox.base_url}; {_load()}", flush=True)
            naive = _run_child(
                "naive", tmpdir / "naive.sqlite3", sandbox.base_url, tmpdir / "var-naive", workers
            )
            print(_line("Full sync (naive)", naive), flush=True)
            _check("naive", naive, args.count, seeded)

    print(
        f"  -> bulk is {naive['wall'] / fast['wall']:.1f}x faster, "
        f"{naive['queries'] / max(fast['queries'], 1):.0f}x fewer queries, "
        f"{naive['requests'] / max(fast['requests'], 1):.1f}x fewer requests "
        f"(target >= 5x faster); {_load()}"
    )


def _line(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label:<34} {f['wall']:8.2f} s  {f['requests']:7,} requests  "
        f"{f['queries']:8,} queries  peak RSS {f['peak_rss_mb']:6.0f} MB  "
        f"({f['portouts']:,} port-outs, {f['comments']:,} comments, {f['events']:,} events)"
    )


if __name__ == "__main__":
    main()
