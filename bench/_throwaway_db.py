"""The throwaway database every benchmark runs on: SQLite in a temporary folder, or
PostgreSQL when DATABASE_URL points at one (a database of its own, created and dropped).

    with throwaway_database("list", os.environ.get("DATABASE_URL")) as url:
        os.environ["DATABASE_URL"] = url

The PostgreSQL database is named after the one in DATABASE_URL with `_bench_<name>`
appended, so a benchmark never touches the database it was pointed at.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


def is_postgres(url: str | None) -> bool:
    return bool(url) and urlsplit(url or "").scheme in {"postgres", "postgresql", "pgsql"}


def postgres_url(explicit: str | None = None) -> str | None:
    """The PostgreSQL server to benchmark on: --postgres, BENCH_DATABASE_URL, or a
    DATABASE_URL that points at PostgreSQL; None for SQLite only."""
    for url in (explicit, os.environ.get("BENCH_DATABASE_URL"), os.environ.get("DATABASE_URL")):
        if is_postgres(url):
            return url
    return None


def _admin_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


@contextmanager
def throwaway_database(
    name: str, server: str | None = None, *, keep: bool = False
) -> Iterator[str]:
    """Yield a DATABASE_URL for a new empty database; drop it (or its folder) afterwards,
    unless `keep` (then say where it is, for another run to measure on)."""
    if not is_postgres(server):
        folder = tempfile.mkdtemp(prefix=f"bench-{name}-")
        url = f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}"
        try:
            yield url
        finally:
            if keep:
                print(f"database kept: {url}")
            else:
                shutil.rmtree(folder, ignore_errors=True)
        return
    import psycopg

    assert server is not None
    base = urlsplit(server).path.lstrip("/") or "portouts"
    db = f"{base}_bench_{name}"
    with psycopg.connect(_admin_url(server), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db}"')
        con.execute(f'CREATE DATABASE "{db}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{db}"))
    try:
        yield url
    finally:
        if keep:
            print(f"database kept: {url}")
        else:
            _drop(server, db)


def _drop(server: str, db: str) -> None:
    import psycopg
    from django.conf import settings

    if settings.configured:  # this process's own connections go first
        from django.db import connections

        connections.close_all()
    with psycopg.connect(_admin_url(server), autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
