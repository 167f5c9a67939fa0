"""Locust users of the load test: reviewers who sign in through the sign-in form, then open
the queue, filtered lists and port-out pages picked from the queue, and refresh each page the
way its htmx poller does (the poller's own address, values and headers, with `HX-Request`).

`bench/load/run.py` runs them against gunicorn. Reviewers' sign-ins come from the
environment: `LOAD_USERNAMES` (comma-separated) and `LOAD_PASSWORD`; each Locust user takes
the next name. The users read the pages as a browser would see them: the pollers' values and
headers are parsed out of the HTML, so a change of the refresh protocol shows up as failures.

    python bench/load/locustfile.py http://127.0.0.1:8000

walks the flow once, one request of each kind, and prints them as JSON (failures named);
`tests/test_load_flow.py` runs it against the test server so the flow cannot rot.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import resource
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser

#: Filters reviewers use from the list (a few realistic ones); `{month_ago}` is filled in.
LIST_FILTERS = (
    "",
    "?status=pending",
    "?time_left=due_soon",
    "?status=rejected&o=-foc",
    "?carrier_name=T-Mobile",
    "?q=Acme",
    "?status=ported&inserted_at_gte={month_ago}",
)
SIGN_IN = "/accounts/login/"
_names = itertools.count()
_signed_in = itertools.count(1)

_POLLER = re.compile(r'<div\b[^>]*\bclass="poller"[^>]*>')
_ATTR = re.compile(r'([\w:-]+)="([^"]*)"')
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_PORTOUT_LINK = re.compile(r'href="/portouts/([A-Za-z0-9][\w.:-]*)/"')


def poller(body: str) -> dict[str, str] | None:
    """The attributes of the page's (or fragment's) htmx poller, unescaped; None if none."""
    tag = _POLLER.search(body)
    if tag is None:
        return None
    return {name: html.unescape(value) for name, value in _ATTR.findall(tag.group(0))}


class Reviewer(FastHttpUser):
    """One reviewer's browser: a session, the queue's port-outs and each page's poller."""

    abstract = True

    def on_start(self) -> None:
        names = os.environ["LOAD_USERNAMES"].split(",")
        self.username = names[next(_names) % len(names)]
        self.portouts: list[str] = []
        self.queue_poll: dict[str, str] | None = None
        self.list_poll: dict[str, str] | None = None
        self.detail_poll: dict[str, str] | None = None
        self.sign_in()

    def sign_in(self) -> None:
        with self.client.get(SIGN_IN, name="sign-in form", catch_response=True) as response:
            token = _CSRF.search(response.text or "")
            if token is None:
                response.failure("no CSRF token on the sign-in form")
                return
        form = {
            "username": self.username,
            "password": os.environ["LOAD_PASSWORD"],
            "csrfmiddlewaretoken": token.group(1),
            "next": "/",
        }
        with self.client.post(
            SIGN_IN,
            data=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"{self.host}{SIGN_IN}",
            },
            name="sign-in",
            catch_response=True,
        ) as response:
            self._page(response, "queue-poller", "queue")
        runner = self.environment.runner
        if runner is not None and next(_signed_in) == runner.target_user_count:
            _measure_from_now(runner)

    def _page(self, response: Any, marker: str, kind: str) -> dict[str, str] | None:
        """Check a full page (200 with its poller), remember its poller."""
        body = response.text or ""
        if response.status_code != 200 or f'id="{marker}"' not in body:
            response.failure(f"{kind}: {response.status_code}, not the {kind} page")
            return None
        found = poller(body)
        if found is None:
            response.failure(f"{kind}: no poller")
        if kind == "queue":
            self.queue_poll = found
            self.portouts = list(dict.fromkeys(_PORTOUT_LINK.findall(body))) or self.portouts
        return found

    def _refresh(self, url: str, headers: dict[str, str], name: str) -> dict[str, str] | None:
        """A poller's request: 204 while nothing changed, else a fragment with a new poller."""
        sent = {"HX-Request": "true", **headers}
        with self.client.get(url, headers=sent, name=name, catch_response=True) as response:
            if response.status_code == 204:
                return None
            if response.status_code != 200 or response.headers.get("HX-Redirect"):
                response.failure(f"{name}: {response.status_code}")
                return None
            return poller(response.text or "")

    # -- the pages ------------------------------------------------------------------------

    @task(2)
    def queue(self) -> None:
        with self.client.get("/", name="queue", catch_response=True) as response:
            self._page(response, "queue-poller", "queue")

    @task(3)
    def queue_refresh(self) -> None:
        if self.queue_poll is None:
            return self.queue()
        vals = json.loads(self.queue_poll["hx-vals"])
        url = f"{self.queue_poll['hx-get']}?{urlencode(vals)}"
        headers = {"HX-Trigger": "queue-poller", "HX-Current-URL": f"{self.host}/"}
        fresh = self._refresh(url, headers, "queue refresh")
        if fresh and "hx-vals" in fresh:
            self.queue_poll = fresh

    @task(2)
    def portout_list(self) -> None:
        month_ago = (datetime.now(tz=UTC) - timedelta(days=30)).date().isoformat()
        query = random.choice(LIST_FILTERS).format(month_ago=month_ago)
        with self.client.get(f"/portouts/{query}", name="list", catch_response=True) as response:
            self.list_poll = self._page(response, "results", "list")

    @task(2)
    def list_refresh(self) -> None:
        if self.list_poll is None:
            return self.portout_list()
        headers = {"HX-Target": "results", **json.loads(self.list_poll["hx-headers"])}
        fresh = self._refresh(self.list_poll["hx-get"], headers, "list refresh")
        if fresh:
            self.list_poll = fresh

    @task(3)
    def portout_page(self) -> None:
        if not self.portouts:
            return self.queue()
        self.portout_id = random.choice(self.portouts)
        url = f"/portouts/{self.portout_id}/"
        with self.client.get(url, name="port-out page", catch_response=True) as response:
            self.detail_poll = self._page(response, "poller", "port-out page")

    @task(3)
    def portout_refresh(self) -> None:
        if self.detail_poll is None:
            return self.portout_page()
        headers = {"HX-Target": "poller", **json.loads(self.detail_poll["hx-headers"])}
        fresh = self._refresh(self.detail_poll["hx-get"], headers, "port-out refresh")
        if fresh:
            self.detail_poll = fresh


class EagerReviewer(Reviewer):
    """No pause between pages: the saturation run."""

    wait_time = constant(0)


class PacedReviewer(Reviewer):
    """A page every one to three seconds, like a person."""

    wait_time = between(1, 3)


_window: dict[str, float] = {}


def _measure_from_now(runner: Any) -> None:
    """Every user has signed in: count from here, for LOAD_SECONDS, then stop. The sign-ins
    (password hashing, all at once) are the start of a working day, not its steady state."""
    runner.stats.reset_all()
    _window.update(start=time.time(), cpu=_own_cpu())
    gevent.spawn_later(float(os.environ.get("LOAD_SECONDS", "60")), runner.quit)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@events.test_stop.add_listener
def _summary(environment: Any, **_: Any) -> None:
    """Write the figures of the measured window to LOAD_SUMMARY (JSON): the pages and
    refreshes together, each request kind, errors, and the window with Locust's own CPU."""
    path = os.environ.get("LOAD_SUMMARY")
    if not path:
        return
    stats = environment.stats
    kinds = {name: _figures(entry) for (name, _method), entry in stats.entries.items()}
    exceptions = environment.runner.exceptions.values() if environment.runner else []
    summary = {
        "window": [_window.get("start", 0.0), time.time()],
        "locust_cpu": _own_cpu() - _window.get("cpu", 0.0),
        "browsing": _figures(stats.total),
        "kinds": kinds,
        "failures": stats.total.num_failures,
        "exceptions": sum(e["count"] for e in exceptions),
        "messages": [f"{e.occurrences} × {e.name}: {e.error}" for e in stats.errors.values()]
        + [f"{e['count']} × {e['msg']}" for e in exceptions],
    }
    with open(path, "w") as out:
        json.dump(summary, out)


def _figures(entry: Any) -> dict[str, float]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        "p50": entry.get_response_time_percentile(0.5) if entry.num_requests else 0,
        "p95": entry.get_response_time_percentile(0.95) if entry.num_requests else 0,
        "p99": entry.get_response_time_percentile(0.99) if entry.num_requests else 0,
    }


def walk_once(host: str) -> dict[str, Any]:
    """Each step of the flow once, against `host`: what was asked, and what failed."""
    from locust.env import Environment

    asked: list[dict[str, Any]] = []

    def record(name: str, response: Any, exception: Any = None, **_: Any) -> None:
        error = str(exception) if exception else ""
        asked.append({"name": name, "status": response.status_code, "error": error})

    environment = Environment(user_classes=[PacedReviewer], host=host, events=events)
    environment.events.request.add_listener(record)
    PacedReviewer.host = host  # what Locust's runner does with --host
    user = PacedReviewer(environment)
    user.on_start()
    for step in (
        user.queue,
        user.queue_refresh,
        user.portout_list,
        user.list_refresh,
        user.portout_page,
        user.portout_refresh,
    ):
        step()
    return {"asked": asked, "portouts_in_queue": len(user.portouts)}


if __name__ == "__main__":
    result = walk_once(sys.argv[1])
    print(json.dumps(result))
    sys.exit(1 if any(a["error"] for a in result["asked"]) else 0)
