"""Benchmark: the sync (bulk, concurrent) beside a naive sync, against the sandbox on loopback.

    .venv/bin/python bench/sync.py [--count 10000] [--changes 10]

The sandbox runs in this process with `--count` seeded port-outs. Each sync runs in a child
process of its own (a fresh throwaway SQLite database, DATABASE_URL set before
django.setup()) so its peak RSS is its own. Figures printed:

1. full sync of the whole account with comments, documents and rejection codes — wall
   time, HTTP requests (counted on the wire, retries included), database queries, peak RSS;
2. the same with a naive sync: sequential pages, one update_or_create per row (and per
   number, comment, document, code), comments/documents fetched one port-out at a time;
3. an incremental sync after `--changes` changes (status, FOC date, comments, a new
   port-out) in the account synced by (1) — requests and time.

Targets: full >= 5x faster than naive; incremental <= 15 requests and < 1 s for 10 changes.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _child(mode: str, db_path: str, base_url: str, var_dir: str) -> dict[str, Any]:
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

    from portouts.models import Comment, PortOut
    from portouts.telnyx import TelnyxClient

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
            from portouts import sync

            sync.run_full_sync(client=client, triggered_by="bench")
        elif mode == "incremental":
            from portouts import sync

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
    }


def _naive_full_sync(client: Any) -> None:
    """The straightforward way: page after page, row after row, request after request."""
    from django.utils import timezone

    from portouts import sync
    from portouts.models import Comment, PortOut, PortOutNumber, RejectionCode, SupportingDocument

    now = timezone.now()
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


# --------------------------------------------------------------------------- parent side


def _run_child(mode: str, db_path: Path, base_url: str, var_dir: Path) -> dict[str, Any]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--child", choices=["fast", "naive", "incremental"])
    parser.add_argument("--db")
    parser.add_argument("--base-url")
    parser.add_argument("--var-dir")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.db, args.base_url, args.var_dir)))
        return

    sys.path.insert(0, str(ROOT))
    from telnyx_sandbox.server import SandboxServer

    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        tmpdir = Path(tmp)
        print(f"Seeding the sandbox with {args.count:,} port-outs…", flush=True)
        server = SandboxServer(
            seed_count=args.count, seed=1, api_key=API_KEY, reject_delay=3600, tick_interval=5
        )
        base_url = server.start()
        try:
            with server.state.lock:
                comments = sum(len(c) for c in server.state.comments.values())
            print(
                f"Sandbox at {base_url}: {args.count:,} port-outs, {comments:,} comments; "
                f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}\n"
            )

            fast = _run_child("fast", tmpdir / "fast.sqlite3", base_url, tmpdir / "var-fast")
            print(_line("Full sync (bulk, concurrent)", fast), flush=True)
            naive = _run_child("naive", tmpdir / "naive.sqlite3", base_url, tmpdir / "var-naive")
            print(_line("Full sync (naive)", naive), flush=True)
            for name, figures in (("bulk", fast), ("naive", naive)):
                if figures["portouts"] != args.count or figures["comments"] != comments:
                    print(
                        f"  ! the {name} sync stored {figures['portouts']} port-outs, "
                        f"{figures['comments']} comments"
                    )
            print(
                f"  -> bulk is {naive['wall'] / fast['wall']:.1f}x faster, "
                f"{naive['queries'] / max(fast['queries'], 1):.0f}x fewer queries "
                "(target >= 5x faster)\n"
            )

            # Time passed during the naive run and the sandbox's clock moved port-outs on
            # (FOC dates reached, ...): catch up first so only our changes are measured.
            catch_up = _run_child(
                "incremental", tmpdir / "fast.sqlite3", base_url, tmpdir / "var-fast"
            )
            print(_line("Incremental catching up", catch_up))
            _make_changes(server.state, args.changes)
            inc = _run_child("incremental", tmpdir / "fast.sqlite3", base_url, tmpdir / "var-fast")
            print(_line(f"Incremental after {args.changes} changes", inc))
            ok = inc["requests"] <= 15 and inc["wall"] < 1.0
            print(
                f"  -> {inc['requests']} requests, {inc['wall'] * 1000:.0f} ms "
                f"(target <= 15 requests and < 1 s: {'met' if ok else 'NOT met'})"
            )
        finally:
            server.stop()


def _line(label: str, f: dict[str, Any]) -> str:
    return (
        f"{label:<34} {f['wall']:8.2f} s  {f['requests']:7,} requests  "
        f"{f['queries']:8,} queries  peak RSS {f['peak_rss_mb']:6.0f} MB  "
        f"({f['portouts']:,} port-outs, {f['comments']:,} comments)"
    )


if __name__ == "__main__":
    main()
