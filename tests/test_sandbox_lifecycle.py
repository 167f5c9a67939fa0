"""The sandbox's clock and Telnyx's own moves: auto-authorization when the window passes,
a rejection sent back to pending, porting on the FOC date, PIN refusals, each with its
event and signed webhook; and every path and method answered in Telnyx's JSON error shape."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from telnyx_sandbox.errors import SandboxError
from telnyx_sandbox.scenarios import BOUNCE_COMMENT
from telnyx_sandbox.server import SandboxServer
from telnyx_sandbox.state import SandboxState

H = 3600.0


@pytest.fixture
def api(sandbox: SandboxServer):
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": "Bearer test-key"}, timeout=5
    ) as client:
        yield client


def _events(api: httpx.Client, portout_id: str) -> list[dict]:
    """The port-out's events, oldest first."""
    body = api.get("/portouts/events", params={"filter[portout_id]": portout_id}).json()
    return body["data"][::-1]


def _deliveries(receiver, portout_id: str, count: int) -> list[dict]:
    """The first `count` webhook deliveries about `portout_id` (other port-outs the clock
    moved deliver too), waiting up to 5 s for them."""
    deadline = time.monotonic() + 5

    def ours() -> list[dict]:
        data = [json.loads(item.body)["data"] for item in receiver.received]
        return [
            d for d in data if portout_id in (d["payload"]["id"], d["payload"].get("portout_id"))
        ]

    with receiver.cond:
        while len(ours()) < count and time.monotonic() < deadline:
            receiver.cond.wait(0.1)
        return ours()[:count]


def _unprotected_pending(sandbox: SandboxServer):
    """A new pending port-out on numbers without a PIN (no refusal, no bounce)."""
    numbers = sandbox.state.inventory.numbers
    for _ in range(50):
        po = sandbox.state.create_portout()
        if po.status == "pending" and not any(numbers[n].external_pin for n in po.phone_numbers):
            return po
    raise AssertionError("no unprotected number left")


# ---------------------------------------------------------------- auto-authorization


def test_unanswered_portout_is_authorized_when_its_window_passes(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    po = _unprotected_pending(sandbox)
    created = datetime.fromtimestamp(po.created_ts, UTC)
    sandbox.webhook_url = webhook_receiver.url
    sandbox.state.advance(now=created + timedelta(hours=23, minutes=59))
    assert api.get(f"/portouts/{po.id}").json()["data"]["status"] == "pending"

    sandbox.state.advance(now=created + timedelta(hours=24, seconds=1))
    assert api.get(f"/portouts/{po.id}").json()["data"]["status"] == "authorized"
    last = _events(api, po.id)[-1]
    assert last["event_type"] == "portout.status_changed"
    assert last["payload"]["status"] == "authorized"
    assert (
        last["created_at"]
        == (created + timedelta(hours=24)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    )  # when the window passed, not when the clock was read
    hook = _deliveries(webhook_receiver, po.id, 1)[0]
    assert hook["event_type"] == "portout.status_changed" and hook["id"] == last["id"]
    assert hook["payload"]["status"] == "authorized" and hook["payload"]["id"] == po.id


def test_a_decision_in_time_is_not_overridden(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _unprotected_pending(sandbox)
    api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "Customer says no"})
    later = datetime.fromtimestamp(po.created_ts, UTC) + timedelta(hours=25)
    sandbox.state.advance(now=later)
    statuses = [e["payload"]["status"] for e in _events(api, po.id)]
    assert statuses == ["pending", "rejected-pending", "rejected"]


def test_the_window_is_a_constructor_parameter_and_cli_flag() -> None:
    server = SandboxServer(seed_count=0, authorize_after_hours=2)
    assert server.state.authorize_after == 2 * H
    po = server.state.create_portout()
    assert po.authorize_ts == po.created_ts + 2 * H
    server.state.advance(now=po.created_ts + 2 * H + 1)
    assert po.status == "authorized"

    import argparse

    from telnyx_sandbox.cli import add_arguments, build_server

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = vars(parser.parse_args(["--seed", "0", "--authorize-after-hours", "36"]))
    assert build_server(options).state.authorize_after == 36 * H
    assert vars(parser.parse_args([]))["authorize_after_hours"] == 24


def test_auto_authorized_portout_ports_when_its_foc_date_passes(sandbox: SandboxServer) -> None:
    state = sandbox.state
    po = _unprotected_pending(sandbox)
    state.advance(now=po.created_ts + state.authorize_after + 1)
    assert po.status == "authorized"
    assert {state.inventory.numbers[n].status for n in po.phone_numbers} == {"port-out-pending"}
    state.advance(now=po.foc_ts + 1)
    assert po.status == "ported" and po.ported_out_ts == po.foc_ts
    assert {state.inventory.numbers[n].status for n in po.phone_numbers} == {"ported-out"}
    history = [e.status for e in state.events.values() if e.portout_id == po.id and e.status]
    assert history == ["pending", "authorized", "ported"]


# ---------------------------------------------------------------- bounce-back


def test_invalid_pin_rejection_of_a_right_pin_bounces_back_to_pending(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    state = sandbox.state
    protected = next(
        n for n in state.inventory.numbers.values() if n.external_pin and n.status == "active"
    )
    po = state.create_portout(
        phone_numbers=[protected.phone_number], attempted_pin=protected.external_pin
    )
    assert po.status == "pending"
    api.patch(
        f"/portouts/{po.id}/rejected-pending", json={"reason": "", "rejection_code": 1002}
    ).raise_for_status()
    sandbox.webhook_url = webhook_receiver.url
    review = state.now() + state.reject_delay + 1
    state.advance(now=review)
    data = api.get(f"/portouts/{po.id}").json()["data"]
    assert data["status"] == "pending" and data["rejection_code"] is None
    assert [e["payload"].get("status") for e in _events(api, po.id)[-2:]] == ["pending", None]
    comment = api.get(f"/portouts/{po.id}/comments").json()["data"][-1]
    assert comment["body"].startswith(BOUNCE_COMMENT) and comment["user_id"] is None
    hooks = _deliveries(webhook_receiver, po.id, 2)
    assert [h["event_type"] for h in hooks] == ["portout.status_changed", "portout.new_comment"]
    assert hooks[0]["payload"]["status"] == "pending"
    assert protected.status == "port-out-pending"
    assert po.authorize_ts == pytest.approx(review - 1 + state.authorize_after, abs=1)


def test_porting_ops_can_send_any_rejection_back(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    po = _unprotected_pending(sandbox)
    api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "Not ours"})
    sandbox.webhook_url = webhook_receiver.url
    sandbox.state.bounce_rejection(po.id)
    assert api.get(f"/portouts/{po.id}").json()["data"]["status"] == "pending"
    assert _deliveries(webhook_receiver, po.id, 1)[0]["payload"]["status"] == "pending"
    with pytest.raises(SandboxError):
        sandbox.state.bounce_rejection(po.id)  # only a rejected-pending one


def test_a_valid_rejection_frees_the_numbers(api: httpx.Client, sandbox: SandboxServer) -> None:
    state = sandbox.state
    po = _unprotected_pending(sandbox)
    api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "Customer says no"})
    assert {state.inventory.numbers[n].status for n in po.phone_numbers} == {"port-out-pending"}
    state.advance(now=state.now() + state.reject_delay + 1)
    assert po.status == "rejected"
    assert {state.inventory.numbers[n].status for n in po.phone_numbers} == {"active"}


# ---------------------------------------------------------------- PIN protection


def test_a_wrong_pin_on_a_protected_number_is_refused_at_once(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    state = sandbox.state
    sandbox.webhook_url = webhook_receiver.url
    protected = next(
        n for n in state.inventory.numbers.values() if n.external_pin and n.status == "active"
    )
    wrong = f"{(int(protected.external_pin) + 1) % 10000:04d}"
    po = state.create_portout(
        phone_numbers=[protected.phone_number], attempted_pin=wrong, carrier_name="T-Mobile"
    )
    data = api.get(f"/portouts/{po.id}").json()["data"]
    assert data["status"] == "rejected" and data["rejection_code"] == 1002
    events = _events(api, po.id)
    assert [e["payload"]["status"] for e in events] == ["pending", "rejected"]
    payload = events[-1]["payload"]
    assert payload["attempted_pin"] == wrong and payload["rejection_reason"] == "Invalid PIN"
    assert payload["subscriber_name"] == po.end_user_name
    assert payload["carrier_name"] == "T-Mobile" and payload["spid"] == po.spid
    hooks = _deliveries(webhook_receiver, po.id, 2)
    assert [h["payload"]["status"] for h in hooks] == ["pending", "rejected"]
    assert protected.status == "active"


def test_a_number_without_a_pin_accepts_any_attempted_pin(sandbox: SandboxServer) -> None:
    state = sandbox.state
    plain = next(
        n
        for n in state.inventory.numbers.values()
        if not n.external_pin and n.status == "active" and n.customer_reference
    )
    po = state.create_portout(phone_numbers=[plain.phone_number], attempted_pin="1234")
    assert po.status == "pending" and plain.status == "port-out-pending"


# ---------------------------------------------------------------- JSON errors everywhere


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/v2/nothing-here", 404, None),
        ("POST", "/v2/phone_numbers/x/y", 404, None),
        ("GET", "/elsewhere", 404, None),
        ("DELETE", "/v2/portouts", 405, "GET, HEAD"),
        ("PUT", "/v2/phone_numbers", 405, "GET, HEAD"),
        ("OPTIONS", "/v2/portouts/reports", 405, "GET, HEAD, POST"),
        ("TRACE", "/v2/documents", 405, "POST"),
        ("BREW", "/v2/portouts", 405, "GET, HEAD"),
        ("POST", "/files/lsr/abc.pdf", 405, "GET, HEAD"),
    ],
)
def test_unknown_paths_and_methods_answer_telnyx_json(
    sandbox: SandboxServer, method: str, path: str, status: int, allow: str | None
) -> None:
    response = httpx.request(method, sandbox.root_url + path, headers={"Authorization": "Bearer k"})
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    error = response.json()["errors"][0]
    assert error["code"] == ("10005" if status == 404 else "10040") and error["detail"]
    assert response.headers.get("Allow") == allow


def test_head_is_get_without_a_body(sandbox: SandboxServer) -> None:
    response = httpx.head(sandbox.base_url + "/portouts", headers={"Authorization": "Bearer k"})
    assert response.status_code == 200 and response.content == b""


def test_a_malformed_request_line_gets_json_not_html(sandbox: SandboxServer) -> None:
    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as conn:
        conn.sendall(b"GET /v2/portouts extra HTTP/1.1\r\n\r\n")
        raw = b""
        while chunk := conn.recv(4096):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.") and b" 400 " in head.split(b"\r\n")[0]
    assert b"application/json" in head and b"<html" not in body.lower()
    error = json.loads(body)["errors"][0]
    assert error["title"] == "Bad Request" and "syntax" in error["detail"]


def test_state_window_default_is_24_hours() -> None:
    assert SandboxState().authorize_after == 24 * H
