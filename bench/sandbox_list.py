"""How fast the Telnyx sandbox serves a list page at scale.

Seeds 100,000 port-outs, starts the sandbox on a free loopback port and times
`GET /v2/portouts?filter[status]=pending&page[size]=250` over a keep-alive httpx client:
first-touch pages (JSON not yet cached) and repeated pages. Beside it, in the same run,
the naive way: scan every port-out for the status and json.dumps the page's dicts on
every request.

    .venv/bin/python bench/sandbox_list.py [--count 100000] [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telnyx_sandbox.server import SandboxServer  # noqa: E402
from telnyx_sandbox.state import SandboxState  # noqa: E402


def naive_page(state: SandboxState, status: str, page: int, size: int) -> bytes:
    """What a straightforward implementation does: filter by scanning, sort, dump dicts."""
    matching = sorted(
        (p for p in state.portouts.values() if p.status == status),
        key=lambda p: p.created_ts,
        reverse=True,
    )
    chunk = matching[(page - 1) * size : page * size]
    meta = {"page_number": page, "page_size": size, "total_results": len(matching)}
    return json.dumps(
        {"data": [p.to_dict(state.public_root) for p in chunk], "meta": meta}
    ).encode()


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[max(0, int(len(values) * 0.95) - 1)]
    return f"median {statistics.median(values) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    started, cpu = time.perf_counter(), time.process_time()
    server = SandboxServer(seed_count=args.count, seed=1, warm_cache=False, tick_interval=3600)
    seeded, seeded_cpu = time.perf_counter() - started, time.process_time() - cpu
    base = server.start()
    pending = len(server.state._by_status["pending"])
    pages = max(1, pending // 250)
    load = os.getloadavg()[0]
    print(
        f"seeded {args.count:,} port-outs in {seeded:.2f} s wall / {seeded_cpu:.2f} s CPU "
        f"({pending:,} pending, {len(server.state.events):,} events; "
        f"load average {load:.1f} on {os.cpu_count()} CPUs)"
    )

    cold: list[float] = []
    warm: list[float] = []
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer bench"}) as client:
        client.get("/portouts", params={"page[size]": 1})  # open the keep-alive connection
        for i in range(args.requests):
            page = 1 + (i % pages)
            for bucket in (cold, warm) if i < pages else (warm,):
                t0 = time.perf_counter()
                response = client.get(
                    "/portouts",
                    params={"filter[status]": "pending", "page[size]": 250, "page[number]": page},
                )
                bucket.append(time.perf_counter() - t0)
                assert response.status_code == 200 and len(response.json()["data"]) == 250
    naive: list[float] = []
    for i in range(min(args.requests, 15)):
        t0 = time.perf_counter()
        naive_page(server.state, "pending", 1 + (i % pages), 250)
        naive.append(time.perf_counter() - t0)
    server.stop()

    print("GET /v2/portouts?filter[status]=pending&page[size]=250 over HTTP (loopback):")
    print(f"  sandbox, first touch of a page : {ms(cold)}   (n={len(cold)})")
    print(f"  sandbox, page already served   : {ms(warm)}   (n={len(warm)})")
    print(f"  naive scan + json.dumps, no HTTP: {ms(naive)}   (n={len(naive)})")


if __name__ == "__main__":
    main()
