"""Benchmark: CSV export of 100,000 port-outs, the streaming export beside a naive one.

    .venv/bin/python bench/export_csv.py [--rows 100000] [--repeat 3] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portouts .venv/bin/python bench/export_csv.py

Builds a throwaway database (bench/_throwaway_db.py: SQLite, or a PostgreSQL database of
its own when DATABASE_URL points at one, dropped at the end), inserts the rows,
then runs each export method in its own subprocess so that peak RSS (resource.getrusage
ru_maxrss) belongs to that method alone. Each method runs --repeat times; the best and
the median rate are shown, with the load average before and after (the machine is shared).

- streaming: portouts.reports.write_csv (csv_writer.py), what the export task runs (on SQLite the
  database builds each CSV line, fetched in chunks, joined and written; on PostgreSQL
  COPY ... TO STDOUT in ranges of 10,000 rows, progress stored between ranges);
- csv-writer: write_csv(fast=False), the values streamed into csv.writer (what other
  backends run);
- naive: every PortOut model instance loaded into a list, the inventory's customer
  references into a dict, then csv.writer over them;
- raw-floor (SQLite, reference): sqlite3's own cursor straight into csv.writer, without
  Django or any value conversion;
- copy (PostgreSQL, reference): one bare COPY (the export's query) TO STDOUT WITH
  (FORMAT csv) through psycopg straight into the file, no progress.

The columns are Telnyx's report columns (portouts/reports/columns.py); the build gives every
port-out's first number an inventory row, where the customer reference comes from.

Where PostgreSQL's time goes (EXPLAIN ANALYZE, 100,000 rows, December 2026): the bare
query's cells cost about 1.4 s on the server, and the client's loop over COPY's one
message per row runs beside it in its own process; of the cells, the customer reference (one index
lookup per row) and the phone numbers cost most. The streaming export adds the table of
ordinals (about 0.12 s); its ranges, one primary-key lookup per row without JIT, cost the
server no more than the bare query (JIT on a range of 10,000 rows took 43 ms; the hash join
the planner chose before read the whole table per range, 70 ms each).

Targets for the streaming export: at least 50,000 rows/s and peak RSS under 150 MB; on
PostgreSQL at least 0.9x the bare COPY's rate, measured in the same run (the methods run
alternately, --repeat rounds).
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
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_ROWS_PER_S = 50_000
TARGET_RSS_MB = 150
METHODS = {
    "sqlite": ("streaming", "csv-writer", "naive", "raw-floor"),
    "postgresql": ("streaming", "csv-writer", "naive", "copy"),
}


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    os.environ["VAR_DIR"] = var_dir
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def build(database_url: str, var_dir: str, rows: int) -> None:
    setup_django(database_url, var_dir)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from datetime import UTC, datetime

    from django.db import connection, transaction

    from portouts.models import PhoneNumber, PortOut
    from tests.fixtures_reports import build_portouts

    now = datetime.now(UTC)

    # Plain inserts with values prepared here: bulk_create spends most of its time
    # preparing each value, which would make the set-up take longer than the benchmark.
    fields = PortOut._meta.concrete_fields
    table = PortOut._meta.db_table
    columns = ", ".join(f'"{f.column}"' for f in fields)
    postgres = connection.vendor == "postgresql"

    def db_value(value: object) -> object:
        if isinstance(value, datetime):
            return value if postgres else value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, list | dict):
            return json.dumps(value)
        if isinstance(value, bool):
            return value if postgres else int(value)
        return value

    batch = 10_000
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, rows, batch):
            objects = build_portouts(min(batch, rows - start), start=start)
            # The inventory gives the export its customer references.
            PhoneNumber.objects.bulk_create(
                PhoneNumber(
                    number=o.first_number, customer_reference=f"CUST-{i:05d}", synced_at=now
                )
                for i, o in enumerate(objects, start)
            )
            values = [[db_value(getattr(o, f.attname)) for f in fields] for o in objects]
            if postgres:
                with cursor.cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                placeholders = ", ".join("%s" for _ in fields)
                cursor.executemany(
                    f'INSERT INTO "{table}" ({columns}) VALUES ({placeholders})', values
                )
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute(f'VACUUM ANALYZE "{table}"')


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def export_once(method: str, database_url: str, out_path: str) -> int:
    import csv

    from django.db import connection
    from django.db.models import TextField, Value
    from django.db.models.functions import NullIf

    from portouts import reports
    from portouts.models import PortOut

    queryset = PortOut.objects.present().order_by("-created_at", "-id")
    with open(out_path, "wb") as out:
        if method == "streaming":
            return reports.write_csv(queryset, out)
        if method == "csv-writer":
            return reports.write_csv(queryset, out, fast=False)
        if method == "raw-floor":
            # Reference only: the plain sqlite3 cursor into csv.writer, no Django, no value
            # conversion.
            import io
            import sqlite3

            con = sqlite3.connect(urlsplit(database_url).path)
            cursor = con.execute(
                "SELECT * FROM portouts_portout WHERE vanished_at IS NULL "
                "ORDER BY created_at DESC, id DESC"
            )
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text)
            rows = 0
            while batch := cursor.fetchmany(reports.CHUNK_SIZE):
                writer.writerows(batch)
                rows += len(batch)
            text.flush()
            text.detach()
            con.close()
            return rows
        if method == "copy":
            # Reference only: PostgreSQL's COPY writes the CSV (LF line ends), no progress.
            columns = reports.export_columns(reports.CSV_COLUMNS)
            text = TextField()
            expressions = [
                NullIf(c.expression, Value(""), output_field=text) if c.quotable else c.expression
                for c in columns
            ]
            sql, params = queryset.values_list(*expressions).query.sql_with_params()
            rows = 0
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER false)", params
                ) as copy,
            ):
                for data in copy:  # one message per row
                    out.write(data)
                    rows += 1
            return rows
        from portouts.models import PhoneNumber

        names = reports.CSV_COLUMNS
        objects = list(queryset)
        references = dict(PhoneNumber.objects.values_list("number", "customer_reference"))
        text = io_text(out)
        writer = csv.writer(text)
        writer.writerow(names)
        for obj in objects:
            obj.customer_reference = references.get(obj.first_number)
            writer.writerow([naive_cell(getattr(obj, name)) for name in names])
        text.flush()
        text.detach()
        return len(objects)


def naive_cell(value: object) -> object:
    """A model value in the export's format, in Python."""
    from datetime import UTC, datetime

    if isinstance(value, list):
        return " ".join(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
    return value


def io_text(out: object) -> object:
    import io

    return io.TextIOWrapper(out, encoding="utf-8", newline="")  # type: ignore[arg-type]


def run_method(
    database_url: str, var_dir: str, method: str, out_path: str, repeat: int
) -> dict[str, float]:
    """Run one method `repeat` times in this process; best and median times, peak RSS."""
    setup_django(database_url, var_dir)
    times = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = export_once(method, database_url, out_path)
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


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min) / {five:.2f} (5 min)"


def run_database(label: str, database_url: str, folder: str, args: argparse.Namespace) -> None:
    vendor = "postgresql" if database_url.startswith("postgres") else "sqlite"
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; sys.argv=['x']; sys.path.insert(0, {str(ROOT)!r}); "
            f"from bench.export_csv import build; "
            f"build({database_url!r}, {folder!r}, {args.rows})",
        ],
        check=True,
        cwd=ROOT,
    )
    print(f"\n{label}: built {args.rows:,} port-outs in {time.perf_counter() - start:.1f} s")
    print(f"Machine: {os.cpu_count()} CPUs; load average before the runs {load()}")

    # Round-robin: every method once per round, so a busy machine slows each alike.
    runs: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS[vendor]}
    for _round in range(args.repeat):
        for method in METHODS[vendor]:
            out_path = os.path.join(folder, f"{vendor}-{method}.csv")
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--method",
                    method,
                    "--db",
                    database_url,
                    "--out",
                    out_path,
                    "--repeat",
                    "1",
                ],
                check=True,
                cwd=ROOT,
                capture_output=True,
                text=True,
                env={**os.environ, "VAR_DIR": folder},
            )
            runs[method].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    results = {method: _combined(r) for method, r in runs.items()}
    print(f"Load average after the runs {load()}")
    print(
        f"{'method':<11} {'rows':>9} {'best s':>7} {'rows/s':>9} {'median rows/s':>14} "
        f"{'peak RSS':>10} {'file':>8}"
    )
    for method, r in results.items():
        print(
            f"{method:<11} {r['rows']:>9,} {r['best_s']:>7.2f} {r['rows_per_s']:>9,.0f} "
            f"{r['median_rows_per_s']:>14,.0f} {r['peak_rss_mb']:>7.1f} MB {r['file_mb']:>5.1f} MB"
        )
    same = _same_file(folder, vendor)
    print(f"streaming and csv-writer files identical: {same}")
    s = results["streaming"]
    print(
        f"streaming targets: >= {TARGET_ROWS_PER_S:,} rows/s "
        f"{'met' if s['rows_per_s'] >= TARGET_ROWS_PER_S else 'MISSED'} (best), "
        f"{'met' if s['median_rows_per_s'] >= TARGET_ROWS_PER_S else 'MISSED'} (median); "
        f"peak RSS < {TARGET_RSS_MB} MB {'met' if s['peak_rss_mb'] < TARGET_RSS_MB else 'MISSED'}"
    )
    if "copy" in results:
        best = s["rows_per_s"] / results["copy"]["rows_per_s"]
        median = s["median_rows_per_s"] / results["copy"]["median_rows_per_s"]
        print(
            f"streaming / bare COPY: {best:.2f}x (best), {median:.2f}x (median); target >= "
            f"0.9x {'met' if median >= 0.9 else 'MISSED'}"
        )


def _combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Best and median over the rounds, the highest peak RSS."""
    times = [r["best_s"] for r in runs]
    rows = runs[0]["rows"]
    return {
        "rows": rows,
        "best_s": min(times),
        "median_s": statistics.median(times),
        "rows_per_s": rows / min(times),
        "median_rows_per_s": rows / statistics.median(times),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "file_mb": runs[0]["file_mb"],
    }


def _same_file(folder: str, vendor: str) -> bool:
    a = Path(folder, f"{vendor}-streaming.csv").read_bytes()
    b = Path(folder, f"{vendor}-csv-writer.csv").read_bytes()
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per method")
    parser.add_argument("--method", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.method:  # child process: one method, figures as JSON on stdout
        var_dir = os.environ["VAR_DIR"]
        print(json.dumps(run_method(args.db, var_dir, args.method, args.out, args.repeat)))
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _throwaway_db import throwaway_database

    folder = tempfile.mkdtemp(prefix="bench-export-")
    try:
        with throwaway_database("export", os.environ.get("DATABASE_URL")) as url:
            label = "PostgreSQL" if url.startswith("postgres") else "SQLite"
            run_database(label, url, folder, args)
    finally:
        if args.keep:
            print(f"Files kept in {folder}")
        else:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
