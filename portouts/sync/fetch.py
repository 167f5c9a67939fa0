"""Talking to Telnyx for the sync: a client wrapper counting calls, concurrent detail
fetches, and paging (one page after another, or pages fetched ahead by a thread pool).

Worker threads only talk HTTP here; every write stays in the calling (main) thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from portouts import telnyx
from portouts.models import PortOutStatus
from portouts.sync.store import Details

logger = logging.getLogger("portouts.sync")

T = TypeVar("T")


class _Api:
    """The client plus a thread-safe count of the API calls this run made."""

    def __init__(self, client: telnyx.TelnyxClient) -> None:
        self.client = client
        self.requests = 0
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self.requests += 1
        return fn(*args, **kwargs)

    def fetch_details(
        self, plan: dict[str, set[str]], *, pool: ThreadPoolExecutor | None
    ) -> tuple[dict[str, Details], list[str]]:
        """Read, concurrently, what `plan` asks per port-out: "comments", "documents",
        "codes" (eligible rejection codes). Returns (complete reads, failed ids).

        A port-out whose every call succeeded is a complete read. One whose call failed
        after the client's retries is returned as failed (logged) for the caller to mark
        stale: one unreadable port-out never stops the run. A 404 (gone meanwhile) leaves
        the port-out out of both: its listing row decides.
        """
        methods: dict[str, Callable[[str], Any]] = {
            "comments": self.client.list_comments,
            "documents": self.client.list_supporting_documents,
            "codes": self.client.list_rejection_codes,
        }
        submit = pool.submit if pool is not None else _run_now
        jobs = [
            (pid, what, submit(self.call, methods[what], pid))
            for pid, kinds in plan.items()
            for what in ("comments", "documents", "codes")
            if what in kinds
        ]
        out: dict[str, Details] = {}
        gone: set[str] = set()
        failed: dict[str, None] = {}
        for pid, what, future in jobs:
            try:
                value = future.result()
            except telnyx.NotFoundError:
                gone.add(pid)
                continue
            except telnyx.APIError as exc:
                if pid not in failed:
                    logger.warning("Could not read the %s of port-out %s: %s", what, pid, exc)
                failed[pid] = None
                continue
            d = out.setdefault(pid, Details())
            if what == "comments":
                d.comments = value
            elif what == "documents":
                d.documents = value
            else:
                d.rejection_codes = value
        for pid in gone:
            logger.info("Port-out %s disappeared while its details were fetched", pid)
        for pid in gone | set(failed):
            out.pop(pid, None)
        return out, [pid for pid in failed if pid not in gone]

    def get_portouts(
        self, ids: list[str], *, pool: ThreadPoolExecutor | None
    ) -> tuple[dict[str, telnyx.PortoutData], list[str], list[str]]:
        """Read port-outs one by one, concurrently: (found, gone = answered 404, failed =
        any other error, logged). Never raises for one id: the caller decides what an
        unanswered id means."""
        submit = pool.submit if pool is not None else _run_now
        jobs = [(pid, submit(self.call, self.client.get_portout, pid)) for pid in ids]
        found: dict[str, telnyx.PortoutData] = {}
        gone: list[str] = []
        failed: list[str] = []
        for pid, future in jobs:
            try:
                found[pid] = future.result()
            except telnyx.NotFoundError:
                gone.append(pid)
            except telnyx.APIError as exc:
                failed.append(pid)
                logger.warning("Could not read port-out %s: %s", pid, exc)
        return found, gone, failed


def _full_plan(portout: telnyx.PortoutData) -> set[str]:
    """Everything about a port-out: comments, documents, and codes while it is pending."""
    kinds = {"comments", "documents"}
    if portout.status == PortOutStatus.PENDING:
        kinds.add("codes")
    return kinds


def _run_now[R](fn: Callable[..., R], *args: Any, **kwargs: Any) -> Future[R]:
    future: Future[R] = Future()
    try:
        future.set_result(fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - handed to the caller via the future
        future.set_exception(exc)
    return future


#: rounds of the client's retries a listing page gets: a page that fails through them all
#: would stop the whole run, while a detail read that fails only marks one port-out stale,
#: so only pages get a second and third round (worst case 3 x (1 + TELNYX_MAX_RETRIES)
#: attempts per page; a run asks for a few dozen pages)
PAGE_ROUNDS = 3


def listing_page[P](fetch: Callable[[int], telnyx.Page[P]]) -> Callable[[int], telnyx.Page[P]]:
    """`fetch` with PAGE_ROUNDS rounds for transient failures (401, 404, 422 raise at once)."""

    def fetch_page(number: int) -> telnyx.Page[P]:
        for round_number in range(1, PAGE_ROUNDS + 1):
            try:
                return fetch(number)
            except telnyx.APIError as exc:
                if not exc.retryable or round_number == PAGE_ROUNDS:
                    raise
                logger.warning("Listing page %d failed (%s); trying it again", number, exc)
        raise AssertionError("unreachable")

    return fetch_page


def _each_page[P](fetch: Callable[[int], telnyx.Page[P]]) -> Iterator[telnyx.Page[P]]:
    """Pages 1, 2, ... of a listing, one after the other, until Telnyx says there is no next."""
    return telnyx.walk_pages(listing_page(fetch))


class _PageFetcher[P]:
    """Pages 2..N fetched by a thread pool, in order, at most `window` pages ahead of the
    page being stored (memory stays flat however big the account is)."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        fetch: Callable[[int], telnyx.Page[P]],
        first: telnyx.Page[P],
        total_pages: int,
        *,
        window: int,
    ) -> None:
        self.pool = pool
        self.fetch = fetch
        self.window = window
        self.first = first
        self.next_number = 2
        self.total_pages = total_pages
        self.ahead: deque[Future[telnyx.Page[P]]] = deque()

    def _fill(self) -> None:
        while len(self.ahead) < self.window and self.next_number <= self.total_pages:
            self.ahead.append(self.pool.submit(self.fetch, self.next_number))
            self.next_number += 1

    def __iter__(self) -> Iterator[telnyx.Page[P]]:
        self._fill()
        yield self.first
        while self.ahead:
            page = self.ahead.popleft().result()
            self._fill()
            yield page

    def cancel(self) -> None:
        for future in self.ahead:
            future.cancel()
