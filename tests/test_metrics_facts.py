"""The derived facts and the authorized-by-timeout rule, on its edge cases."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from portouts.choices import DecidedVia, DecisionOutcome
from portouts.metrics.facts import comment_is_decision, facts_refresh, facts_refresh_behind
from portouts.models import Comment, PortOutEvent, PortOutFacts, ReviewAction
from tests.fixtures_dashboard import build_portout

pytestmark = pytest.mark.django_db

_events = itertools.count(1)


@pytest.fixture(autouse=True)
def _window(settings: Any) -> None:
    settings.REVIEW_WINDOW_HOURS = 24


def start() -> datetime:
    return datetime(2026, 11, 2, 9, 0, tzinfo=timezone.get_fixed_timezone(0))


def portout(status: str, **fields: Any) -> Any:
    po = build_portout(**{"status": status, "created_at": start(), "updated_at": start(), **fields})
    po.save()
    return po


def status_event(po: Any, status: str, at: datetime, reason: str = "") -> None:
    payload: dict[str, Any] = {"id": po.id, "status": status}
    if reason:
        payload["rejection_reason"] = reason
    PortOutEvent.objects.create(
        id=f"ev-{next(_events)}",
        event_type="portout.status_changed",
        portout_id=po.id,
        payload=payload,
        created_at=at,
        source=PortOutEvent.Source.WEBHOOK,
    )


def decision(po: Any, user: Any, kind: str, at: datetime, **inputs: Any) -> None:
    action = ReviewAction.objects.create(
        portout=po,
        user=user,
        kind=kind,
        inputs=inputs,
        outcome=ReviewAction.Outcome.SUCCEEDED,
        finished_at=at + timedelta(seconds=1),
    )
    ReviewAction.objects.filter(pk=action.pk).update(created_at=at)


def facts(po: Any) -> PortOutFacts:
    facts_refresh([po.id])
    return PortOutFacts.objects.get(portout=po)


def test_authorized_at_the_window_end_without_a_decision_is_a_timeout() -> None:
    po = portout("authorized")
    status_event(po, "authorized", start() + timedelta(hours=24))
    f = facts(po)
    assert (f.outcome, f.decided_via) == (DecisionOutcome.TIMEOUT, DecidedVia.TIMEOUT)
    assert f.decision_seconds is None and f.decided_by is None
    assert f.window_ends_at == start() + timedelta(hours=24)


def test_authorized_a_second_before_the_window_end_was_decided_in_telnyx() -> None:
    """A reviewer in Telnyx's portal: an event, no decision of ours, before the deadline."""
    po = portout("authorized")
    status_event(po, "authorized", start() + timedelta(hours=24) - timedelta(seconds=1))
    f = facts(po)
    assert (f.outcome, f.decided_via) == (DecisionOutcome.AUTHORIZED, DecidedVia.TELNYX)
    assert f.decision_seconds == 24 * 3600 - 1


def test_decided_in_the_dashboard_a_minute_before_the_deadline(reviewer: Any) -> None:
    po = portout("authorized")
    decision(po, reviewer, "authorize", start() + timedelta(hours=23, minutes=59))
    # Telnyx's event arrives after the deadline: still our decision, not a timeout.
    status_event(po, "authorized", start() + timedelta(hours=24, minutes=1))
    f = facts(po)
    assert (f.outcome, f.decided_via, f.decided_by) == (
        DecisionOutcome.AUTHORIZED,
        DecidedVia.DASHBOARD,
        reviewer,
    )
    assert f.decision_seconds == (23 * 60 + 59) * 60


def test_a_decision_in_telnyx_comments_is_not_a_timeout() -> None:
    po = portout("ported")
    Comment.objects.create(
        id="c-1", portout=po, body="Authorized per the customer's e-mail.", created_at=start()
    )
    status_event(po, "authorized", start() + timedelta(hours=30))
    f = facts(po)
    assert (f.outcome, f.decided_via) == (DecisionOutcome.AUTHORIZED, DecidedVia.TELNYX)


def test_ported_without_any_event_uses_the_last_update() -> None:
    po = portout("ported", updated_at=start() + timedelta(days=3))
    assert facts(po).outcome == DecisionOutcome.TIMEOUT


def test_bounced_back_then_decided_counts_from_the_bounce(reviewer: Any) -> None:
    po = portout("authorized")
    decision(po, reviewer, "reject", start() + timedelta(hours=1), rejection_code=1002)
    status_event(po, "rejected-pending", start() + timedelta(hours=1))
    bounce = start() + timedelta(hours=5)
    status_event(po, "pending", bounce)
    decision(po, reviewer, "authorize", bounce + timedelta(hours=2))
    status_event(po, "authorized", bounce + timedelta(hours=2))
    f = facts(po)
    assert (f.outcome, f.decided_via) == (DecisionOutcome.AUTHORIZED, DecidedVia.DASHBOARD)
    assert f.bounce_count == 1 and f.bounced_back_at == bounce
    assert f.pending_at == bounce and f.window_ends_at == bounce + timedelta(hours=24)
    assert f.decision_seconds == 2 * 3600


def test_bounced_back_and_left_unanswered_is_a_timeout(reviewer: Any) -> None:
    """Our rejection no longer stands once Porting Ops sent it back."""
    po = portout("authorized")
    decision(po, reviewer, "reject", start() + timedelta(hours=1), rejection_code=1002)
    status_event(po, "rejected-pending", start() + timedelta(hours=1))
    bounce = start() + timedelta(hours=5)
    status_event(po, "pending", bounce)
    status_event(po, "authorized", bounce + timedelta(hours=24))
    f = facts(po)
    assert f.outcome == DecisionOutcome.TIMEOUT and f.decided_by is None


def test_rejected_in_the_dashboard_keeps_its_code(reviewer: Any) -> None:
    po = portout("rejected-pending")
    decision(po, reviewer, "reject", start() + timedelta(hours=3), rejection_code=1002)
    f = facts(po)
    assert (f.outcome, f.rejection, f.decision_seconds) == (
        DecisionOutcome.REJECTED,
        "1002",
        3 * 3600,
    )


def test_rejected_in_telnyx_keeps_its_reason() -> None:
    po = portout("rejected")
    status_event(po, "rejected", start() + timedelta(hours=2), reason="Wrong account number")
    f = facts(po)
    assert (f.decided_via, f.rejection) == (DecidedVia.TELNYX, "Wrong account number")


def test_canceled_pending_and_unknown_statuses() -> None:
    canceled, pending, odd = portout("canceled"), portout("pending"), portout("on-hold")
    status_event(canceled, "canceled", start() + timedelta(hours=2))
    assert (facts(canceled).outcome, facts(canceled).decided_via) == (
        DecisionOutcome.CANCELED,
        DecidedVia.CARRIER,
    )
    assert facts(canceled).decision_seconds is None
    assert facts(pending).outcome == "" and facts(odd).outcome == ""


def test_foc_date_changes_are_counted() -> None:
    po = portout("pending")
    for n in range(2):
        PortOutEvent.objects.create(
            id=f"foc-{n}",
            event_type="portout.foc_date_changed",
            portout_id=po.id,
            payload={"id": po.id},
            source=PortOutEvent.Source.WEBHOOK,
        )
    assert facts(po).foc_changes == 2


@pytest.mark.parametrize(
    ("body", "decides"),
    [
        ("Authorized per the customer's e-mail.", True),
        ("approved by the account owner", True),
        ("Please authorize this port", False),
        ("This port is not authorized", False),
        ("unauthorized request", False),
        ("", False),
    ],
)
def test_comment_is_decision(body: str, decides: bool) -> None:
    assert comment_is_decision(body) is decides


def test_refresh_behind_catches_up_only_what_changed(
    reviewer: Any, django_assert_max_num_queries: Any
) -> None:
    rows = [portout("pending") for _ in range(3)]
    assert facts_refresh_behind() == 3
    assert facts_refresh_behind() == 0
    decision(rows[0], reviewer, "authorize", timezone.now())
    rows[0].status = "authorized"
    rows[0].synced_at = timezone.now()
    rows[0].save()
    with django_assert_max_num_queries(10):
        assert facts_refresh_behind() == 1
    assert PortOutFacts.objects.get(portout=rows[0]).decided_via == DecidedVia.DASHBOARD


def test_facts_refresh_reads_a_constant_number_of_queries(
    django_assert_max_num_queries: Any,
) -> None:
    rows = [portout("authorized") for _ in range(20)]
    for po in rows:
        status_event(po, "authorized", start() + timedelta(hours=30))
    # port-outs, events, actions, comments, alerts, claims, the upsert, the savepoint
    with django_assert_max_num_queries(9):
        assert facts_refresh([p.id for p in rows]) == 20


def test_the_sync_keeps_the_facts_current(synced: Any, reviewer: Any) -> None:
    """After a full sync every cached port-out has facts; a decision made in Telnyx is
    reflected by the next incremental run, a decision of ours by the refresh after it."""
    from portouts import sync
    from portouts.models import PortOut
    from portouts.review.decisions import portout_authorize

    assert PortOutFacts.objects.count() == PortOut.objects.count() > 0
    # the youngest: still in their window (the sandbox authorizes the others by itself)
    pending = list(PortOut.objects.pending().order_by("-created_at").values_list("id", flat=True))
    outside, ours = pending[0], pending[1]
    synced.state.update_status(outside, "authorized", body={"reason": "Checked in the portal"})
    sync.run_incremental_sync(triggered_by="test")
    assert PortOutFacts.objects.get(portout_id=outside).decided_via == DecidedVia.TELNYX
    portout_authorize(user=reviewer, portout_id=ours, note="Checked with the customer")
    f = PortOutFacts.objects.get(portout_id=ours)
    assert (f.outcome, f.decided_via, f.decided_by) == ("authorized", "dashboard", reviewer)


def test_alert_to_claim_counts_from_the_first_alert_to_the_first_claim(reviewer: Any) -> None:
    from portouts.alerts.claims import portout_claim_release, portout_claim_take
    from portouts.models import Notification

    po = portout("pending")
    facts(po)
    first_alert = start() + timedelta(hours=1)
    for n, at in enumerate((first_alert, first_alert + timedelta(minutes=30))):
        Notification.objects.create(
            portout=po,
            kind="new_pending",
            occasion=f"o{n}",
            title="New",
            dedup_key=f"k{n}",
            created_at=at,
        )
    portout_claim_take(po.id, reviewer, now=first_alert + timedelta(minutes=12))
    portout_claim_release(po.id, reviewer)
    portout_claim_take(po.id, reviewer, now=first_alert + timedelta(hours=3))  # not the first
    f = PortOutFacts.objects.get(portout=po)
    assert f.first_alert_at == first_alert
    assert f.first_claimed_at == first_alert + timedelta(minutes=12)
    assert f.alert_to_claim_seconds == 12 * 60
    assert facts(po).alert_to_claim_seconds == 12 * 60  # a later refresh keeps the first claim


def test_a_claim_before_any_alert_has_no_alert_to_claim_time(reviewer: Any) -> None:
    from portouts.alerts.claims import portout_claim_take

    po = portout("pending")
    facts(po)
    portout_claim_take(po.id, reviewer, now=start())
    assert PortOutFacts.objects.get(portout=po).alert_to_claim_seconds is None


def test_the_facts_copy_the_carrier_and_the_label_and_follow_their_changes(
    reviewer: Any,
) -> None:
    """A carrier change stored by the sync (a newer `synced_at`) and a label given in the
    dashboard move the carriers and flags tables: the copies cannot go stale."""
    from portouts.metrics.periods import Period
    from portouts.metrics.selectors import metrics_for
    from portouts.models import RiskFlag
    from portouts.risk.outcomes import portout_label

    po = portout("authorized", carrier_name="Old Wireless", spid="111A")
    RiskFlag.objects.create(
        portout=po, kind="pin", severity="high", sentence="PIN", computed_at=start()
    )
    assert portout_label(user=reviewer, portout_id=po.id, label="fraud").ok  # before its facts
    assert facts_refresh_behind() == 1
    period = Period(start().date(), start().date())

    def tables() -> tuple[list[str], list[tuple[str, int]]]:
        m = metrics_for(period)
        return [c.label for c in m.carriers], [(f.label, f.fraud) for f in m.flags]

    assert tables() == (["Old Wireless (SPID 111A)"], [("Wrong or missing PIN", 1)])
    po.carrier_name, po.spid, po.synced_at = "New Mobile", "222B", timezone.now()
    po.save()
    assert facts_refresh_behind() == 1
    assert portout_label(user=reviewer, portout_id=po.id, label="legitimate").ok
    assert tables() == (["New Mobile (SPID 222B)"], [("Wrong or missing PIN", 0)])
    facts_refresh([po.id])  # a later refresh keeps the label
    assert PortOutFacts.objects.get(portout=po).outcome_label == "legitimate"
