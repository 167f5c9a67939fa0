"""Load test: many reviewers at once against gunicorn, PostgreSQL and Redis (Locust, headless).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portouts REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/load/run.py [--gunicorn 2x4,3x2] [--duration 60] [--users 16]

Builds a throwaway PostgreSQL database (bench/_throwaway_db.py) with bench/list_page.py's
data (100,000 port-outs, 500 pending, a year of events), creates the reviewers, collects the
static files and, for each gunicorn setting (WORKERSxTHREADS, gthread workers), starts
gunicorn on a free loopback port with production settings (DEBUG off, so cached templates
and whitenoise's manifest; a test SECRET_KEY; ALLOWED_HOSTS=127.0.0.1; plain HTTP, so the
HTTPS redirect and secure cookies are off), then runs Locust headless twice, each bounded
in time: a saturation run (--saturation-users reviewers with no pause) and a paced run
(--users reviewers, a page every 1-3 s). The users are in bench/load/locustfile.py.

Each run is measured from the moment every reviewer has signed in (through the sign-in
form, all at once) for --duration seconds. Prints, per run: requests/s, p50/p95/p99 of the
pages and refreshes, the errors, the CPU taken by gunicorn, by Locust, by this database's
PostgreSQL backends and by the rest of the machine, with the load average, and the CPU per
request (the least noisy figure on a shared machine). Targets: at least 100 requests/s at
saturation, p99 under 300 ms and no error at 16 paced users. gunicorn is stopped and the
database dropped on any exit, Ctrl-C too. --keep and --database reuse one database across
runs (building it takes about 80 s).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent))

from _throwaway_db import postgres_url, throwaway_database  # noqa: E402
from list_page import build, setup_django  # noqa: E402

TARGET_RPS = 100.0
TARGET_P99_MS = 300.0
PASSWORD = "load-test-reviewer-password"
#: Production settings except the ones plain HTTP on loopback needs.
SERVER_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "load-test-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "SECURE_HSTS_SECONDS": "0",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class Setting:
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Setting:
        workers, threads = text.lower().split("x")
        return cls(int(workers), int(threads))

    def __str__(self) -> str:
        return f"{self.workers} workers x {self.threads} threads (gthread)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--pending", type=int, default=500)
    parser.add_argument("--gunicorn", default="2x4", help="settings to try, e.g. 2x4,3x2,4x1")
    parser.add_argument("--duration", type=int, default=60, help="seconds of each Locust run")
    parser.add_argument("--users", type=int, default=16, help="reviewers in the paced run")
    parser.add_argument("--saturation-users", type=int, default=8)
    parser.add_argument("--postgres", help="PostgreSQL server (default: DATABASE_URL)")
    parser.add_argument("--keep", action="store_true", help="keep the database, print its URL")
    parser.add_argument("--database", help="run on a database kept by --keep (no build)")
    args = parser.parse_args()
    # A `kill` unwinds like Ctrl-C: gunicorn and Locust stop, the database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    settings = [Setting.parse(s) for s in args.gunicorn.split(",")]
    server = postgres_url(args.postgres)
    if server is None and not args.database:
        print("The load test runs on PostgreSQL: set DATABASE_URL (or --postgres).")
        return 2
    if not os.environ.get("REDIS_URL"):
        print("REDIS_URL is not set: the cache is a folder, not Redis as in production.")

    try:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as var_dir:
            if args.database:
                return run(args, settings, args.database, var_dir)
            with throwaway_database("load", server, keep=args.keep) as url:
                return run(args, settings, url, var_dir)
    except KeyboardInterrupt:
        print("Interrupted: gunicorn and Locust stopped.")
        return 130


def run(args: argparse.Namespace, settings: list[Setting], url: str, var_dir: str) -> int:
    setup_django(url, var_dir)
    from django.db import connections

    from portouts.models import PortOut

    t0 = time.perf_counter()
    if args.database:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        build(args.rows, args.pending)
    usernames = reviewers(max(args.users, args.saturation_users))
    print(
        f"{PortOut.objects.count():,} port-outs ({PortOut.objects.filter(status='pending').count()}"
        f" pending), {len(usernames)} reviewers, ready in {time.perf_counter() - t0:.0f} s"
    )
    print_page_sizes(usernames[0])
    connections.close_all()  # gunicorn's workers open their own

    env = {
        **os.environ,
        **SERVER_ENV,
        "DATABASE_URL": url,
        "VAR_DIR": var_dir,
        "STATIC_ROOT": os.path.join(var_dir, "static"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    ok = True
    for setting in settings:
        ok &= measure(args, setting, env, usernames, var_dir)
    return 0 if ok else 1


def reviewers(count: int) -> list[str]:
    """`count` users in the Reviewer group, sharing one password hash (hashed once)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from portouts.roles import REVIEWER

    user_model = get_user_model()
    hashed = make_password(PASSWORD)
    names = [f"reviewer-{i:02d}" for i in range(count)]
    user_model.objects.bulk_create(
        [user_model(username=name, password=hashed) for name in names], ignore_conflicts=True
    )
    Group.objects.get(name=REVIEWER).user_set.add(*user_model.objects.filter(username__in=names))
    return names


def print_page_sizes(username: str) -> None:
    """The queue's HTML as sent, plain and gzipped (GZipMiddleware)."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    plain = client.get("/")
    zipped = client.get("/", headers={"accept-encoding": "gzip"})
    print(
        f"queue page: {len(plain.content) / 1024:.0f} KB of HTML, "
        f"{len(zipped.content) / 1024:.0f} KB gzipped ({zipped.get('Content-Encoding')})"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def measure(
    args: argparse.Namespace, setting: Setting, env: dict[str, str], users: list[str], var: str
) -> bool:
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    command = [
        *(sys.executable, "-m", "gunicorn", "portal.wsgi"),
        *("--bind", f"127.0.0.1:{port}", "--worker-class", "gthread"),
        *("--workers", str(setting.workers), "--threads", str(setting.threads)),
        *("--timeout", "90", "--log-level", "warning"),
    ]
    print(f"\n== gunicorn {setting} on {host}: {' '.join(command[2:])}")
    gunicorn = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_until_up(host, gunicorn)
        saturated = locust(args, "EagerReviewer", args.saturation_users, host, users, gunicorn, var)
        paced = locust(args, "PacedReviewer", args.users, host, users, gunicorn, var)
    finally:
        stop(gunicorn)
    met_rps = saturated["rps"] >= TARGET_RPS and saturated["errors"] == 0
    met_p99 = paced["p99"] < TARGET_P99_MS and paced["errors"] == 0
    print(
        f"targets: >= {TARGET_RPS:.0f} req/s at saturation: {'met' if met_rps else 'MISSED'}; "
        f"p99 < {TARGET_P99_MS:.0f} ms and 0 errors at {args.users} paced users: "
        f"{'met' if met_p99 else 'MISSED'}"
    )
    return met_rps and met_p99


def wait_until_up(host: str, gunicorn: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if gunicorn.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {gunicorn.returncode}")
        try:
            with urllib.request.urlopen(f"{host}/accounts/login/", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 120 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to gunicorn's process group (the master and its workers), SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


class CpuMeter:
    """CPU seconds (user + system) of a set of processes, kept per process: one that exits
    (a PostgreSQL backend closed after CONN_MAX_AGE) keeps what it used until then."""

    def __init__(self) -> None:
        self.used: dict[tuple[int, float], float] = {}

    def sample(self, processes: Iterable[Any]) -> float:
        import psutil

        for proc in processes:
            try:
                times = proc.cpu_times()
                self.used[(proc.pid, proc.create_time())] = times.user + times.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return sum(self.used.values())


def gunicorn_processes(pid: int) -> list[Any]:
    """gunicorn's master and workers."""
    import psutil

    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def backends(database: str) -> list[Any]:
    """The PostgreSQL backends serving `database` (named in their titles); found only when
    PostgreSQL runs on this machine."""
    import psutil

    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] in {"postgres", "postmaster"} and f" {database} " in title:
            found.append(proc)
    return found


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy (all cores, all processes)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def locust(
    args: argparse.Namespace,
    user_class: str,
    users: int,
    host: str,
    usernames: list[str],
    gunicorn: subprocess.Popen[bytes],
    var: str,
) -> dict[str, float]:
    """One bounded headless Locust run; print its line and return its browsing figures."""
    summary_path = os.path.join(var, f"{user_class}.json")
    command = [
        *(sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), user_class),
        *("--headless", "--only-summary", "--loglevel", "WARNING"),
        *("--users", str(users), "--spawn-rate", str(users), "--host", host),
        # The users stop the run LOAD_SECONDS after the last sign-in; this bounds it anyway.
        *("--run-time", f"{args.duration + 180}s", "--stop-timeout", "5"),
    ]
    env = {
        **os.environ,
        "LOAD_USERNAMES": ",".join(usernames[:users]),
        "LOAD_PASSWORD": PASSWORD,
        "LOAD_SUMMARY": summary_path,
        "LOAD_SECONDS": str(args.duration),
    }
    from django.db import connection

    database = str(connection.settings_dict["NAME"])
    server, db = CpuMeter(), CpuMeter()
    samples: list[tuple[float, float, float, float]] = []
    with open(os.path.join(var, f"{user_class}.log"), "w+") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
        try:
            while process.poll() is None:
                samples.append(
                    (
                        time.time(),
                        server.sample(gunicorn_processes(gunicorn.pid)),
                        db.sample(backends(database)),
                        machine_busy(),
                    )
                )
                time.sleep(1)
        finally:  # Ctrl-C or a failure here: Locust goes too
            if process.poll() is None:
                process.terminate()
                process.wait()
        if process.returncode not in (0, 1):  # 1: some requests failed, counted below
            log.seek(0)
            raise SystemExit(
                f"Locust exited with status {process.returncode}:\n{log.read()[-3000:]}"
            )
    load = os.getloadavg()
    with open(summary_path) as summary_file:
        summary = json.load(summary_file)
    start, end = summary["window"]
    if not start:
        print("    not every reviewer signed in: the figures cover the whole run")
        start = samples[0][0]
    inside = [sample for sample in samples if start <= sample[0] <= end]
    first, last = inside[0], inside[-1]
    wall = last[0] - first[0]
    server_cpu, db_cpu, machine = (last[i] - first[i] for i in (1, 2, 3))
    locust_cpu = summary["locust_cpu"] * wall / (end - start)
    figures = summary["browsing"]
    errors = summary["failures"] + summary["exceptions"]
    figures["errors"] = errors
    pace = "no pause" if user_class == "EagerReviewer" else "a page every 1-3 s"
    print(
        f"{users} reviewers, {pace}, {args.duration} s: {figures['requests']:,} requests, "
        f"{figures['rps']:.1f} req/s, p50 {figures['p50']:.0f} ms, p95 {figures['p95']:.0f} ms, "
        f"p99 {figures['p99']:.0f} ms, {errors} errors"
    )
    for name, kind in sorted(summary["kinds"].items()):
        if not kind["requests"]:
            continue
        print(
            f"    {name:18} {kind['requests']:7,}  p50 {kind['p50']:6.0f}  p95 {kind['p95']:6.0f}"
            f"  p99 {kind['p99']:6.0f} ms  {kind['failures']} failed"
        )
    for message in summary["messages"][:10]:
        print(f"    error: {message}")
    cores = os.cpu_count() or 1
    print(
        f"    CPU over {wall:.0f} s on {cores} cores (100 % = one core): gunicorn "
        f"{server_cpu / wall:.0%}, Locust {locust_cpu / wall:.0%}, PostgreSQL (this database) "
        f"{db_cpu / wall:.0%}, rest of the machine (Redis, other jobs) "
        f"{max(0.0, machine - server_cpu - locust_cpu - db_cpu) / wall:.0%}; "
        f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    # CPU per request is what a busy machine disturbs least: it gives the ceiling of these
    # cores if nothing else ran on them.
    per_request = (server_cpu + db_cpu) / max(figures["requests"], 1) * 1000
    print(
        f"    CPU per request: gunicorn {server_cpu / max(figures['requests'], 1) * 1000:.1f} ms "
        f"+ PostgreSQL {db_cpu / max(figures['requests'], 1) * 1000:.1f} ms: at most "
        f"{cores * 1000 / per_request:.0f} req/s on {cores} otherwise idle cores"
    )
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
