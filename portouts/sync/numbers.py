"""The number inventory in the cache (`PhoneNumber`), read from `GET /phone_numbers`.

* The full sync reads the whole inventory (`sync_inventory`), one transaction per page, and
  then flags numbers Telnyx no longer lists, with the same caution as vanished port-outs:
  only from a listing that is complete and misses few of the cached numbers; otherwise each
  candidate is looked up by number (`filter[phone_number]`) and only those Telnyx does not
  hold are flagged.
* The incremental sync refreshes the numbers of the port-outs it reads in full
  (`read_numbers` + `store_number_reads`), in the same transaction as those port-outs; a
  number whose read fails marks its port-out `details_stale`, so the run ends "still to
  retry" and the next run reads that port-out and its numbers again.

An inventory listing that fails through its retries does not fail the full sync (the
port-out reconciliation is what deadlines depend on): the pages stored so far are kept
(each whole), nothing is flagged vanished, and the run counts `inventory_failed`; the next
full run reads the inventory again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from portouts import telnyx
from portouts.models import PhoneNumber
from portouts.sync.fetch import _Api, _PageFetcher, _run_now, listing_page
from portouts.sync.runs import _Run

logger = logging.getLogger("portouts.sync")

#: a listing missing more than this share of the cached numbers is not trusted, and at
#: most this many candidates are then looked up per run (as for port-outs, `full.py`)
VANISH_TRUST_FRACTION = 0.02
VANISH_CHECK_LIMIT = 500
PAGE_WINDOW = 8
BATCH_SIZE = 500

_FIELDS = [f.name for f in PhoneNumber._meta.concrete_fields if f.name not in {"id", "number"}]
_NUMBER_MAX = PhoneNumber._meta.get_field("number").max_length or 32


def _row(item: telnyx.PhoneNumberData, now: datetime) -> PhoneNumber | None:
    number = (item.phone_number or "").strip()
    if not number or len(number) > _NUMBER_MAX:
        if number:
            logger.warning("Telnyx lists the number %r, too long to cache; skipped", number)
        return None
    return PhoneNumber(
        number=number,
        telnyx_id=item.id or "",
        status=item.status or "",
        customer_reference=item.customer_reference or "",
        tags=list(item.tags),
        source=item.source or "",
        connection_id=item.connection_id or "",
        purchased_at=item.purchased_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        synced_at=now,
        vanished_at=None,
    )


def store_phone_numbers(items: Iterable[telnyx.PhoneNumberData], *, now: datetime) -> int:
    """Upsert numbers as Telnyx listed them (one statement per batch); a number listed
    again after it vanished is present again. Returns how many rows were written."""
    rows = {r.number: r for item in items if (r := _row(item, now)) is not None}
    PhoneNumber.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["number"],
        update_fields=_FIELDS,
        batch_size=BATCH_SIZE,
    )
    return len(rows)


def flag_vanished_numbers(numbers: Iterable[str], *, now: datetime) -> int:
    """Mark numbers the account no longer has; their rows stay (earlier port-outs name them)."""
    wanted = list(numbers)
    flagged = 0
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start : start + BATCH_SIZE]
        flagged += PhoneNumber.objects.filter(number__in=chunk, vanished_at__isnull=True).update(
            vanished_at=now
        )
    return flagged


def read_numbers(
    api: _Api, numbers: Iterable[str], *, pool: ThreadPoolExecutor | None
) -> tuple[dict[str, telnyx.PhoneNumberData | None], list[str]]:
    """Look numbers up one by one, concurrently: ({number: its record, or None when the
    account does not hold it}, numbers whose read failed after the client's retries)."""
    submit = pool.submit if pool is not None else _run_now
    method = api.client.list_phone_numbers_page
    jobs = [(n, submit(api.call, method, phone_number=n)) for n in dict.fromkeys(numbers)]
    found: dict[str, telnyx.PhoneNumberData | None] = {}
    failed: list[str] = []
    for number, future in jobs:
        try:
            page = future.result()
        except telnyx.APIError as exc:
            logger.warning("Could not read the number %s from the inventory: %s", number, exc)
            failed.append(number)
            continue
        found[number] = next((p for p in page.data if p.phone_number == number), None)
    return found, failed


def store_number_reads(
    found: Mapping[str, telnyx.PhoneNumberData | None], *, now: datetime
) -> tuple[int, int]:
    """Store what `read_numbers` found: held numbers upserted, the others flagged vanished.
    Returns (stored, vanished)."""
    held = [item for item in found.values() if item is not None]
    gone = [number for number, item in found.items() if item is None]
    return store_phone_numbers(held, now=now), flag_vanished_numbers(gone, now=now)


def sync_inventory(state: _Run, pool: ThreadPoolExecutor) -> None:
    """The full sync's inventory stage: every page stored in its own transaction, then
    vanished numbers flagged. A listing that fails is counted, never raised."""
    api = state.api
    before = api.requests
    read_began = timezone.now()
    fetch = listing_page(lambda n: api.call(api.client.list_phone_numbers_page, page_number=n))
    seen: set[str] = set()
    pages: _PageFetcher[telnyx.PhoneNumberData] | None = None
    try:
        first = fetch(1)
        listed_total = first.meta.total_results
        pages = _PageFetcher(pool, fetch, first, first.meta.total_pages or 1, window=PAGE_WINDOW)
        for page in pages:
            with transaction.atomic():
                state.count("numbers", store_phone_numbers(page.data, now=timezone.now()))
            seen.update(p.phone_number for p in page.data if p.phone_number)
            state.progress()
    except telnyx.APIError as exc:
        logger.warning("The number inventory could not be read (%s); kept as it was", exc)
        state.count("inventory_failed", 1)
        return
    finally:
        if pages is not None:
            pages.cancel()
        state.count("inventory_requests", api.requests - before)
    gone = _vanished(state, seen, read_began, listed_total=listed_total, pool=pool)
    state.count("numbers_vanished", flag_vanished_numbers(gone, now=timezone.now()))


def _vanished(
    state: _Run,
    seen: set[str],
    read_began: datetime,
    *,
    listed_total: int | None,
    pool: ThreadPoolExecutor,
) -> list[str]:
    """Cached numbers stored before this read and not listed by it, confirmed gone: all of
    them from a trusted listing, else those a lookup by number does not find."""
    present = PhoneNumber.objects.present().filter(synced_at__lt=read_began)
    cached = len(seen)
    candidates: list[str] = []
    for number in present.values_list("number", flat=True).iterator(chunk_size=5000):
        cached += 1
        if number not in seen:
            candidates.append(number)
    if not candidates:
        return []
    short = listed_total is not None and len(seen) < listed_total
    if not short and len(candidates) <= VANISH_TRUST_FRACTION * cached:
        return candidates
    logger.warning(
        "Telnyx listed %d numbers (it announced %s) and %d cached ones were missing; "
        "looking them up one by one",
        len(seen),
        listed_total,
        len(candidates),
    )
    before = state.api.requests
    check = candidates[:VANISH_CHECK_LIMIT]
    found, failed = read_numbers(state.api, check, pool=pool)
    state.count("inventory_requests", state.api.requests - before)
    state.count("numbers_unchecked", len(candidates) - len(check) + len(failed))
    with transaction.atomic():
        store_phone_numbers([p for p in found.values() if p is not None], now=timezone.now())
    return [number for number, item in found.items() if item is None]
