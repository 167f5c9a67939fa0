"""What a decision says when the change request fails, the interactive budget, and the
sweeper that settles decisions left "started" — against the sandbox and respx."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import httpx
import pytest
import respx
from django.conf import settings as django_settings
from django.utils import timezone

from portouts.interactive import interactive_client
from portouts.models import PortOut, ReviewAction
from portouts.review.decisions import portout_authorize, portout_reject
from portouts.review.reconcile import review_actions_reconcile
from portouts.tasks import reconcile_review_actions_task
from portouts.telnyx import TelnyxClient
from tests.fixtures_sandbox import SANDBOX_API_KEY

PATCH = re.compile(r"/portouts/[^/]+/(authorized|rejected-pending)$")


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


class _Faults(httpx.BaseTransport):
    """Real HTTP to the sandbox; queues sandbox faults just before the status PATCH
    (`patch`) and before the request that follows it, the re-check (`recheck`)."""

    def __init__(self, sandbox, patch: tuple[str, ...] = (), recheck: tuple[str, ...] = ()):
        self.sandbox = sandbox
        self.patch = list(patch)
        self.recheck = list(recheck)
        self.patched = False
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.patched = True
            if self.patch:
                self.sandbox.faults.queue(self.patch.pop(0))
        elif self.patched and self.recheck:
            self.sandbox.faults.queue(self.recheck.pop(0))
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.fixture
def make_client(synced):
    made: list[TelnyxClient] = []

    def make(
        *,
        patch: tuple[str, ...] = (),
        recheck: tuple[str, ...] = (),
        timeout: float = 5.0,
        max_retries: int = 0,
        transport: httpx.BaseTransport | None = None,
    ) -> TelnyxClient:
        client = TelnyxClient(
            SANDBOX_API_KEY,
            base_url=synced.base_url,
            timeout=timeout,
            max_retries=max_retries,
            transport=transport or _Faults(synced, patch, recheck),
            sleep=lambda _s: None,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def _authorize(reviewer, portout_id: str, client: TelnyxClient, note: str = "Checked"):
    return portout_authorize(user=reviewer, portout_id=portout_id, note=note, client=client)


# -- a failed change request is checked again ----------------------------------------------


def test_timeout_after_telnyx_applied_it_is_confirmed_on_recheck(
    reviewer_client, synced, pending_portout
):
    """The PATCH reaches Telnyx (which applies it) but the answer never comes back."""

    def applied_then_timeout(request):
        synced.state.change_status(pending_portout, "authorized", reason="Authorized by rita")
        raise httpx.ReadTimeout("answer lost")

    first = reviewer_client.post(f"/portouts/{pending_portout}/authorize/", {"note": ""})
    match = re.search(r'name="idempotency_key" value="(\w+)"', first.content.decode())
    assert match
    key = match.group(1)
    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).mock(side_effect=applied_then_timeout)
        router.route().pass_through()
        response = reviewer_client.post(
            f"/portouts/{pending_portout}/authorize/",
            {"note": "", "step": "confirm", "idempotency_key": key},
        )
    assert response.status_code == 302
    page = unescape(reviewer_client.get(response["Location"]).content.decode())
    assert "Telnyx accepted the decision (confirmed on re-check)." in page
    assert "Nothing was changed" not in page
    action = ReviewAction.objects.get()
    assert action.outcome == "succeeded" and action.response["confirmed_on_recheck"] is True
    assert action.response["send_error"] == "Telnyx did not answer in time."
    assert PortOut.objects.get(id=pending_portout).status == "authorized"


def test_server_error_and_still_pending_says_not_applied(
    reviewer, synced, pending_portout, make_client
):
    result = _authorize(reviewer, pending_portout, make_client(patch=("500",)))
    assert not result.ok
    assert re.fullmatch(
        r"Telnyx had a server error \(500\) \(Telnyx request id [\w-]+\); try again in a few "
        r"minutes\. "
        r"Telnyx still reports it as pending: the decision was not applied\.",
        result.message,
    )
    assert result.portout is not None and result.portout.status == "pending"
    synced.requests.clear()
    result = _authorize(reviewer, pending_portout, make_client(patch=("500",)))
    gets = [r for r in synced.requests if r[:2] == ("GET", f"/v2/portouts/{pending_portout}")]
    assert len(gets) == 2  # the check before deciding and the re-check after the 500


def test_slow_answer_says_not_applied_so_far_and_never_nothing_changed(
    reviewer, synced, pending_portout, make_client
):
    """Telnyx is still working on the request when the dashboard gives up waiting."""
    synced.faults.configure(slow_seconds=0.6)
    result = _authorize(reviewer, pending_portout, make_client(patch=("slow",), timeout=0.2))
    assert not result.ok
    assert result.message.startswith("Telnyx did not answer in time. Telnyx still reports it")
    assert "has not been applied so far" in result.message
    assert "Check again in a minute" in result.message
    assert "Nothing was" not in result.message
    synced.wait_idle(timeout=5)
    # It went through after all: the page shows it with the next refresh.
    assert synced.state.get_portout(pending_portout).status == "authorized"


def test_dropped_connection_is_rechecked(reviewer, synced, pending_portout, make_client):
    result = _authorize(reviewer, pending_portout, make_client(patch=("drop",)))
    assert not result.ok
    assert result.message.startswith("The connection to Telnyx broke before it answered.")
    assert "still reports it as pending" in result.message
    assert ReviewAction.objects.get().outcome == "failed"


def test_recheck_failing_too_says_the_outcome_is_unknown(
    reviewer, synced, pending_portout, make_client
):
    synced.faults.configure(slow_seconds=0.6)
    client = make_client(patch=("slow",), recheck=("500",), timeout=0.2)
    result = _authorize(reviewer, pending_portout, client)
    synced.wait_idle(timeout=5)
    assert not result.ok
    assert result.message.startswith("Telnyx did not answer in time. The dashboard could not")
    assert "it is not known whether the decision was applied" in result.message
    assert "Check again in a minute" in result.message
    assert "Nothing was" not in result.message
    action = ReviewAction.objects.get()
    assert action.outcome == "failed" and "not known" in action.error


def test_refused_connection_is_not_rechecked(reviewer, synced, pending_portout, make_client):
    """Nothing left the dashboard, so Telnyx certainly did nothing."""
    forward = httpx.HTTPTransport()

    def refuse_patch(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            raise httpx.ConnectError("Connection refused", request=request)
        return forward.handle_request(request)

    synced.requests.clear()
    result = _authorize(
        reviewer, pending_portout, make_client(transport=httpx.MockTransport(refuse_patch))
    )
    forward.close()
    assert not result.ok
    assert result.message == (
        "The dashboard could not reach Telnyx. Nothing was sent; try again shortly."
    )
    assert len([r for r in synced.requests if r[0] == "GET"]) == 1  # no re-check


def test_422_after_a_retry_that_went_through_is_a_success(
    reviewer, synced, pending_portout, make_client
):
    """First attempt applied but timed out; the retry is refused as "not pending"."""
    attempts = []

    def patch(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            synced.state.change_status(pending_portout, "authorized", reason="Checked")
            raise httpx.ReadTimeout("answer lost")
        return httpx.Response(
            422, json={"errors": [{"code": "10015", "title": "Port-out is not pending"}]}
        )

    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).mock(side_effect=patch)
        router.route().pass_through()
        result = _authorize(reviewer, pending_portout, make_client(max_retries=1))
    assert len(attempts) == 2
    assert result.ok
    assert result.message.endswith("Telnyx accepted the decision (confirmed on re-check).")
    assert ReviewAction.objects.get().outcome == "succeeded"


def test_422_when_someone_else_decided_is_not_our_success(
    reviewer, synced, pending_portout, make_client
):
    def patch(request: httpx.Request) -> httpx.Response:
        synced.state.change_status(pending_portout, "authorized", reason="Approved in portal")
        return httpx.Response(
            422, json={"errors": [{"code": "10015", "title": "Port-out is not pending"}]}
        )

    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).mock(side_effect=patch)
        router.route().pass_through()
        result = _authorize(reviewer, pending_portout, make_client())
    assert not result.ok
    assert "Telnyx now reports it as “Authorized”, not as this decision asked." in result.message
    assert ReviewAction.objects.get().outcome == "failed"


def test_reject_confirmed_on_recheck_compares_the_code(
    reviewer, synced, pending_portout, make_client
):
    def applied_then_500(request: httpx.Request) -> httpx.Response:
        synced.state.change_status(
            pending_portout, "rejected-pending", reason="Fraud", rejection_code=1001
        )
        return httpx.Response(500, json={"errors": []})

    with respx.mock(assert_all_called=False) as router:
        router.patch(url__regex=PATCH.pattern).mock(side_effect=applied_then_500)
        router.route().pass_through()
        result = portout_reject(
            user=reviewer,
            portout_id=pending_portout,
            rejection_code=1001,
            reason="Fraud",
            client=make_client(),
        )
    assert result.ok and "confirmed on re-check" in result.message


# -- the interactive budget ----------------------------------------------------------------


def test_interactive_client_shares_the_pool_with_a_tighter_budget():
    base = TelnyxClient("KEYx", base_url="http://127.0.0.1:9/v2", timeout=10, max_retries=3)
    quick = interactive_client(base)
    assert quick._http is base._http  # same connection pool
    assert (quick.timeout, quick.max_retries, quick.retry_policy.retry_after_cap) == (4.0, 1, 1.0)
    assert (base.timeout, base.max_retries, base.retry_policy.retry_after_cap) == (10.0, 3, 30.0)
    assert "KEYx" not in repr(quick)
    base.close()


def test_interactive_calls_make_at_most_two_attempts_with_a_short_wait():
    waits: list[float] = []
    base = TelnyxClient(
        "KEYx", base_url="https://api.example.test/v2", max_retries=3, sleep=waits.append
    )
    with respx.mock(base_url="https://api.example.test/v2") as router:
        route = router.get("/portouts/p1").respond(
            429, headers={"Retry-After": "60"}, json={"errors": []}
        )
        with pytest.raises(Exception, match="429"):
            interactive_client(base).get_portout("p1")
        assert route.call_count == 2 and waits == [1.0]
        assert route.calls[0].request.extensions["timeout"]["read"] == 4.0
        route.reset()
        waits.clear()
        with pytest.raises(Exception, match="429"):
            base.get_portout("p1")  # background work keeps its retries
        assert route.call_count == 4 and waits == [30.0, 30.0, 30.0]
    base.close()


def test_with_options_keeps_the_timeout_of_a_looser_client():
    base = TelnyxClient("KEYx", timeout=2.0, max_retries=0)
    quick = interactive_client(base)
    assert (quick.timeout, quick.max_retries) == (2.0, 0)
    with pytest.raises(ValueError):
        base.with_options(max_retries=-1)
    base.close()


# -- the sweeper ---------------------------------------------------------------------------


def _started(user, portout_id: str, kind: str, inputs: dict, minutes_ago: int) -> ReviewAction:
    action = ReviewAction.objects.create(portout_id=portout_id, user=user, kind=kind, inputs=inputs)
    created = timezone.now() - timedelta(minutes=minutes_ago)
    ReviewAction.objects.filter(pk=action.pk).update(created_at=created)
    return action


def test_sweeper_settles_actions_left_started(reviewer, synced, pending_portout):
    others = list(
        PortOut.objects.pending().exclude(id=pending_portout).values_list("id", flat=True)[:2]
    )
    applied, not_applied = pending_portout, others[0]
    synced.state.change_status(applied, "authorized", reason="Checked")
    done = _started(reviewer, applied, "authorize", {"reason": "Checked"}, 11)
    lost = _started(reviewer, not_applied, "authorize", {"reason": "Checked"}, 12)
    comment = _started(reviewer, others[1], "comment", {"body": "hi"}, 30)
    recent = _started(reviewer, others[1], "authorize", {"reason": "Checked"}, 5)

    counts = reconcile_review_actions_task()

    assert counts == {"succeeded": 1, "failed": 2, "unchecked": 0}
    done.refresh_from_db()
    assert done.outcome == "succeeded" and done.finished_at
    assert "confirmed on re-check" in done.response["_message"]
    lost.refresh_from_db()
    assert lost.outcome == "failed"
    assert lost.error.startswith("Outcome unknown: the request did not finish.")
    assert "“Pending”" in lost.error
    comment.refresh_from_db()
    assert comment.outcome == "failed" and "Outcome unknown" in comment.error
    recent.refresh_from_db()
    assert recent.outcome == "started"  # its request may still be running
    assert PortOut.objects.get(id=applied).status == "authorized"


def test_sweeper_leaves_rows_when_telnyx_cannot_be_asked(
    reviewer, synced, pending_portout, make_client
):
    action = _started(reviewer, pending_portout, "reject", {"rejection_code": 1001}, 20)
    synced.faults.queue("500")
    counts = review_actions_reconcile(client=make_client())
    assert counts == {"succeeded": 0, "failed": 0, "unchecked": 1}
    action.refresh_from_db()
    assert action.outcome == "started"
    assert review_actions_reconcile(client=make_client())["failed"] == 1


def test_sweeper_never_overwrites_a_row_its_request_finished(
    reviewer, synced, pending_portout, make_client
):
    action = _started(reviewer, pending_portout, "authorize", {"reason": "x"}, 20)
    ReviewAction.objects.filter(pk=action.pk).update(outcome="succeeded")
    assert review_actions_reconcile(client=make_client()) == {
        "succeeded": 0,
        "failed": 0,
        "unchecked": 0,
    }


def test_sweeper_is_scheduled_by_beat():
    entries = [e["task"] for e in django_settings.CELERY_BEAT_SCHEDULE.values()]
    assert "portouts.tasks.reconcile_review_actions_task" in entries
