"""Benchmark: CSV export of 100,000 port-outs, the streaming export beside a naive one.

    .venv/bin/python bench/export_csv.py [--rows 100000] [--keep]

Builds a throwaway SQLite database (DATABASE_URL is set before django.setup()), inserts
the rows, then runs each export method in its own subprocess so that peak RSS
(resource.getrusage ru_maxrss) belongs to that method alone. Each method runs --repeat
times (default 3); the best and the median rate are shown.

- streaming: portouts.reports.write_csv, what the export task runs (values_list +
  iterator(chunk_size=2000) + csv.writer on a temporary file);
- naive: every PortOut model instance loaded into a list, then csv.writer over them;
- raw-floor (reference): sqlite3's own cursor straight into csv.writer, without Django or
  any value conversion, i.e. the most this machine can do; the streaming export should
  come close to it.

Targets for the streaming export: at least 50,000 rows/s and peak RSS under 150 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_S = 50_000
TARGET_RSS_MB = 150


def setup_django(db_path: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ["VAR_DIR"] = str(Path(db_path).parent)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(db_path: str, rows: int) -> None:
    setup_django(db_path)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    sys.path.insert(0, str(ROOT))
    from datetime import UTC, datetime

    from django.db import connection, transaction

    from portouts.models import PortOut
    from tests.fixtures_reports import build_portouts

    # Plain executemany with values prepared here: bulk_create spends most of its time
    # preparing each value, which would make the set-up take longer than the benchmark.
    fields = PortOut._meta.concrete_fields
    table = PortOut._meta.db_table
    sql = (
        f'INSERT INTO "{table}" ({", ".join(f.column for f in fields)}) '
        f"VALUES ({', '.join('%s' for _ in fields)})"
    )

    def db_value(value: object) -> object:
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, list | dict):
            return json.dumps(value)
        if isinstance(value, bool):
            return int(value)
        return value

    batch = 10_000
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, rows, batch):
            objects = build_portouts(min(batch, rows - start), start=start)
            cursor.executemany(
                sql, [[db_value(getattr(o, f.attname)) for f in fields] for o in objects]
            )


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def export_once(method: str, db_path: str, out_path: str) -> int:
    import csv

    from portouts import reports
    from portouts.models import PortOut

    queryset = PortOut.objects.present().order_by("-created_at", "-id")
    with open(out_path, "w", encoding="utf-8", newline="") as out:
        if method == "streaming":
            return reports.write_csv(queryset, out)
        if method == "raw-floor":
            # Reference only: the plain sqlite3 cursor into csv.writer, no Django, no value
            # conversion. No export can be faster than this on the same machine.
            import sqlite3

            con = sqlite3.connect(db_path)
            cursor = con.execute(
                "SELECT * FROM portouts_portout WHERE vanished_at IS NULL "
                "ORDER BY created_at DESC, id DESC"
            )
            writer = csv.writer(out)
            rows = 0
            while batch := cursor.fetchmany(reports.CHUNK_SIZE):
                writer.writerows(batch)
                rows += len(batch)
            con.close()
            return rows
        fields = reports.EXPORT_FIELDS
        objects = list(queryset)
        writer = csv.writer(out)
        writer.writerow(fields)
        for obj in objects:
            writer.writerow(
                [
                    ";".join(v) if isinstance(v, list) else v
                    for v in (getattr(obj, f) for f in fields)
                ]
            )
        return len(objects)


def run_method(db_path: str, method: str, out_path: str, repeat: int) -> dict[str, float]:
    """Run one method `repeat` times in this process; best and median times, peak RSS."""
    setup_django(db_path)
    times = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = export_once(method, db_path, out_path)
        times.append(time.perf_counter() - start)
    return {
        "rows": rows,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "rows_per_s": rows / min(times),
        "median_rows_per_s": rows / statistics.median(times),
        "peak_rss_mb": peak_rss_mb(),
        "file_mb": os.path.getsize(out_path) / (1024 * 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method (best kept)")
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.method:  # child process: one method, figures as JSON on stdout
        print(json.dumps(run_method(args.db, args.method, args.out, args.repeat)))
        return

    folder = tempfile.mkdtemp(prefix="bench-export-")
    db_path = os.path.join(folder, "bench.sqlite3")
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.argv=['x']; "
            f"sys.path.insert(0, {str(ROOT)!r}); "
            f"from bench.export_csv import build; build({db_path!r}, {args.rows})",
        ],
        check=True,
        cwd=ROOT,
    )
    print(f"Built {args.rows:,} port-outs in {time.perf_counter() - start:.1f} s ({db_path})")

    results = {}
    for method in ("streaming", "naive", "raw-floor"):
        out_path = os.path.join(folder, f"{method}.csv")
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                "--method",
                method,
                "--db",
                db_path,
                "--out",
                out_path,
                "--repeat",
                str(args.repeat),
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        results[method] = json.loads(proc.stdout.strip().splitlines()[-1])

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Machine: {os.cpu_count()} CPUs, 1-minute load average {load:.1f} at the start")
    print(
        f"{'method':<10} {'rows':>9} {'best s':>7} {'rows/s':>9} {'median rows/s':>14} "
        f"{'peak RSS':>10} {'file':>8}"
    )
    for method, r in results.items():
        print(
            f"{method:<10} {r['rows']:>9,} {r['best_s']:>7.2f} {r['rows_per_s']:>9,.0f} "
            f"{r['median_rows_per_s']:>14,.0f} {r['peak_rss_mb']:>7.1f} MB {r['file_mb']:>5.1f} MB"
        )
    s = results["streaming"]
    print(
        f"streaming targets: >= {TARGET_ROWS_PER_S:,} rows/s "
        f"{'met' if s['rows_per_s'] >= TARGET_ROWS_PER_S else 'MISSED'}; "
        f"peak RSS < {TARGET_RSS_MB} MB {'met' if s['peak_rss_mb'] < TARGET_RSS_MB else 'MISSED'}"
    )
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
