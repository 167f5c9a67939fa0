"""The queue, the list and a port-out page run the same number of queries whatever the
size of the cache (the rows, events, comments and review actions they show grow)."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest
from django.utils import timezone

from portouts.models import Comment, PortOutEvent, ReviewAction
from tests.fixtures_dashboard import bulk_portouts


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def _cache_of(size: int, reviewer) -> str:
    """`size` port-outs (a third pending), each with two events and a comment, and a
    review action on every tenth; returns the id of a pending port-out."""
    now = timezone.now()
    portouts = bulk_portouts(size, status="pending")
    PortOutEvent.objects.bulk_create(
        PortOutEvent(
            id=f"ev-{p.id}-{k}",
            event_type="portout.status_changed",
            portout_id=p.id,
            payload={"status": "pending"},
            payload_status="pending",
            created_at=now - timedelta(minutes=k),
            source=PortOutEvent.Source.API,
        )
        for p in portouts
        for k in range(2)
    )
    Comment.objects.bulk_create(
        Comment(id=f"c-{p.id}", portout_id=p.id, body="Please send the LOA.", created_at=now)
        for p in portouts
    )
    ReviewAction.objects.bulk_create(
        ReviewAction(
            portout_id=p.id,
            kind=ReviewAction.Kind.COMMENT,
            user=reviewer,
            inputs={"body": "Asked the customer."},
            outcome=ReviewAction.Outcome.SUCCEEDED,
        )
        for p in portouts[::10]
    )
    return portouts[0].id


@pytest.mark.parametrize("size", [12, 240])
@pytest.mark.parametrize(
    ("page", "queries"),
    # the same count at 12 and at 240 port-outs: what each page reads is fixed
    [("queue", 11), ("list", 8), ("detail", 22)],
)
def test_pages_run_a_fixed_number_of_queries(
    reviewer, reviewer_client, django_assert_num_queries, size, page, queries
):
    portout_id = _cache_of(size, reviewer)
    url = {
        "queue": "/",
        "list": "/portouts/?status=pending&o=-foc&per_page=100",
        "detail": f"/portouts/{portout_id}/",
    }[page]
    reviewer_client.get(url)  # warm the session, permission and count caches
    with django_assert_num_queries(queries):
        response = reviewer_client.get(url)
    assert response.status_code == 200


def test_pages_are_compressed_for_browsers_that_accept_gzip(reviewer, reviewer_client):
    _cache_of(240, reviewer)
    plain = reviewer_client.get("/")
    packed = reviewer_client.get("/", headers={"accept-encoding": "gzip"})
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert len(packed.content) * 4 < len(plain.content)
    assert gzip.decompress(packed.content).decode().count(
        "data-href="
    ) == plain.content.decode().count("data-href=")
