"""The Telnyx sandbox driven over HTTP with plain httpx: every operation, filters,
pagination, errors, the state machine, webhooks, reports, documents and each fault."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from telnyx_sandbox.seed import seed_state
from telnyx_sandbox.server import SandboxServer
from telnyx_sandbox.state import STATUSES, SandboxState
from telnyx_sandbox.traffic import TrafficGenerator

E164 = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")
PORTOUT_FIELDS = {
    "id",
    "record_type",
    "phone_numbers",
    "authorized_name",
    "carrier_name",
    "current_carrier",
    "end_user_name",
    "city",
    "state",
    "zip",
    "lsr",
    "pon",
    "reason",
    "rejection_code",
    "service_address",
    "foc_date",
    "requested_foc_date",
    "spid",
    "support_key",
    "status",
    "already_ported",
    "user_id",
    "vendor",
    "created_at",
    "inserted_at",
    "updated_at",
    "host_messaging",
}
EVENT_FIELDS = {
    "id",
    "event_type",
    "portout_id",
    "available_notification_methods",
    "payload_status",
    "payload",
    "record_type",
    "created_at",
    "updated_at",
}


@pytest.fixture
def api(sandbox: SandboxServer):
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": "Bearer test-key"}, timeout=5
    ) as client:
        yield client


def _first(sandbox: SandboxServer, status: str = "pending"):
    keys = sandbox.state._by_status[status]
    return sandbox.state.portouts[keys[-1][1]]


def _error(response: httpx.Response) -> dict:
    errors = response.json()["errors"]
    assert len(errors) == 1
    return errors[0]


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# ---------------------------------------------------------------- auth & routing


def test_missing_or_empty_bearer_key_is_401(sandbox: SandboxServer) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        response = httpx.get(sandbox.base_url + "/portouts", headers=headers)
        assert response.status_code == 401
        assert _error(response)["code"] == "10009"


def test_any_key_is_accepted_unless_one_is_configured(sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/portouts"
    assert httpx.get(url, headers={"Authorization": "Bearer anything"}).status_code == 200
    sandbox.api_key = "KEYright"
    assert httpx.get(url, headers={"Authorization": "Bearer anything"}).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer KEYright"}).status_code == 200


def test_unknown_route_and_wrong_method(api: httpx.Client) -> None:
    assert api.get("/nothing-here").status_code == 404
    response = api.delete("/portouts")
    assert response.status_code == 405
    assert "errors" in response.json()


# ---------------------------------------------------------------- list, pagination, filters


def test_list_defaults_to_20_newest_first_with_meta(api: httpx.Client) -> None:
    body = api.get("/portouts").json()
    assert body["meta"] == {
        "page_number": 1,
        "page_size": 20,
        "total_pages": 3,
        "total_results": 60,
    }
    assert len(body["data"]) == 20
    created = [p["created_at"] for p in body["data"]]
    assert created == sorted(created, reverse=True)
    assert set(body["data"][0]) == PORTOUT_FIELDS
    assert body["data"][0]["record_type"] == "portout"


def test_pages_cover_every_portout_once(api: httpx.Client, sandbox: SandboxServer) -> None:
    seen: list[str] = []
    page = 1
    while True:
        body = api.get("/portouts", params={"page[number]": page, "page[size]": 7}).json()
        seen += [p["id"] for p in body["data"]]
        if page >= body["meta"]["total_pages"]:
            break
        page += 1
    assert page == 9
    assert sorted(seen) == sorted(sandbox.state.portouts)
    beyond = api.get("/portouts", params={"page[number]": 99}).json()
    assert beyond["data"] == [] and beyond["meta"]["total_results"] == 60


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("page[size]", "0"),
        ("page[size]", "251"),
        ("page[size]", "ten"),
        ("page[number]", "0"),
        ("filter[status]", "open"),
        ("filter[status_in]", "pending,open"),
        ("filter[inserted_at][gte]", "yesterday"),
        ("filter[foc_date]", "2024-13-45"),
        ("filter[country_code]", "USA"),
        ("filter[colour]", "blue"),
    ],
)
def test_malformed_list_parameters_are_422(api: httpx.Client, param: str, value: str) -> None:
    response = api.get("/portouts", params={param: value})
    assert response.status_code == 422
    assert _error(response)["source"] == {"parameter": param}


def test_page_size_250_is_the_maximum(api: httpx.Client) -> None:
    body = api.get("/portouts", params={"page[size]": 250}).json()
    assert body["meta"]["page_size"] == 250 and len(body["data"]) == 60


def test_status_filter_and_every_list_form_of_status_in(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    counts = Counter(p.status for p in sandbox.state.portouts.values())
    pending = api.get("/portouts", params={"filter[status]": "pending", "page[size]": 250}).json()
    assert {p["status"] for p in pending["data"]} == {"pending"}
    assert pending["meta"]["total_results"] == counts["pending"]
    expected = counts["pending"] + counts["authorized"]
    forms = [
        [("filter[status_in]", "pending,authorized")],
        [("filter[status_in]", "pending"), ("filter[status_in]", "authorized")],
        [("filter[status_in][]", "pending"), ("filter[status_in][]", "authorized")],
    ]
    for form in forms:
        body = api.get("/portouts", params=[*form, ("page[size]", "250")]).json()
        assert body["meta"]["total_results"] == expected
        assert {p["status"] for p in body["data"]} == {"pending", "authorized"}


def test_field_filters_really_filter(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox, "pending")
    number = po.phone_numbers[-1]
    cases = {
        "filter[carrier_name]": po.carrier_name,
        "filter[spid]": po.spid,
        "filter[pon]": po.pon,
        "filter[phone_number]": number,
        "filter[support_key]": po.support_key,
        "filter[country_code]": po.country_code,
        "filter[country_code_in]": f"{po.country_code},XX",
        "filter[foc_date]": _iso(datetime.fromtimestamp(po.foc_ts, UTC)),
    }
    for param, value in cases.items():
        body = api.get("/portouts", params={param: value, "page[size]": 250}).json()
        ids = [p["id"] for p in body["data"]]
        assert po.id in ids, param
        assert body["meta"]["total_results"] < 60, param
        for item in body["data"]:
            if param == "filter[carrier_name]":
                assert item["carrier_name"] == po.carrier_name
            if param == "filter[phone_number]":
                assert number in item["phone_numbers"]
    assert api.get("/portouts", params={"filter[support_key]": "PO_000000"}).json()["data"] == []
    # digits-only numbers are normalised to E.164
    body = api.get("/portouts", params={"filter[phone_number]": number[2:]}).json()
    assert po.id in [p["id"] for p in body["data"]]


def test_inserted_and_ported_out_ranges(api: httpx.Client, sandbox: SandboxServer) -> None:
    now = datetime.now(UTC)
    since = _iso(now - timedelta(hours=48))
    body = api.get("/portouts", params={"filter[inserted_at][gte]": since, "page[size]": 250})
    recent = body.json()["data"]
    assert recent and all(p["created_at"] >= since for p in recent)
    older = api.get("/portouts", params={"filter[inserted_at][lte]": since, "page[size]": 250})
    assert len(recent) + older.json()["meta"]["total_results"] == 60
    ported = api.get(
        "/portouts",
        params={"filter[ported_out_at][gte]": _iso(now - timedelta(days=60)), "page[size]": 250},
    ).json()
    ported_ids = {p.id for p in sandbox.state.portouts.values() if p.status == "ported"}
    assert {p["id"] for p in ported["data"]} == ported_ids


def test_get_portout_and_404(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    body = api.get(f"/portouts/{po.id}").json()["data"]
    assert body["id"] == po.id and body["support_key"] == po.support_key
    assert body["lsr"] == [f"{sandbox.root_url}/files/lsr/{po.id}.pdf"]
    pdf = httpx.get(body["lsr"][0])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    missing = api.get("/portouts/00000000-0000-4000-8000-000000000000")
    assert missing.status_code == 404 and _error(missing)["code"] == "10005"


# ---------------------------------------------------------------- rejection codes & decisions


def test_rejection_codes_list_and_filters(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    codes = api.get(f"/portouts/rejections/{po.id}").json()["data"]
    assert [c["code"] for c in codes] == list(po.rejection_codes)
    by_code = {c["code"]: c for c in codes}
    assert by_code[1001] == {"code": 1001, "description": "Other", "reason_required": True}
    assert by_code[1002] == {"code": 1002, "description": "Invalid PIN", "reason_required": False}
    one = api.get(f"/portouts/rejections/{po.id}", params={"filter[code]": 1002}).json()["data"]
    assert [c["code"] for c in one] == [1002]
    two = api.get(f"/portouts/rejections/{po.id}", params={"filter[code][in]": "1001,1002"})
    assert [c["code"] for c in two.json()["data"]] == [1001, 1002]
    assert api.get("/portouts/rejections/nope").status_code == 404
    bad = api.get(f"/portouts/rejections/{po.id}", params={"filter[code]": "x"})
    assert bad.status_code == 422


def test_authorize_then_a_second_decision_is_422(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    events_before = len(sandbox.state._events_by_portout[po.id])
    response = api.patch(
        f"/portouts/{po.id}/authorized", json={"reason": "", "host_messaging": True}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "authorized" and data["host_messaging"] is True
    assert len(sandbox.state._events_by_portout[po.id]) == events_before + 1
    again = api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "changed my mind"})
    assert again.status_code == 422
    assert _error(again)["code"] == "10015"


def test_reject_with_eligible_code_is_stored(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    response = api.patch(
        f"/portouts/{po.id}/rejected-pending", json={"reason": "", "rejection_code": 1002}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["status"] == "rejected-pending"
    assert data["rejection_code"] == 1002 and data["reason"] == "Invalid PIN"


@pytest.mark.parametrize(
    ("status", "body", "pointer"),
    [
        ("approved", {"reason": "x"}, None),
        ("authorized", {}, "/reason"),
        ("rejected-pending", {"reason": "  "}, "/reason"),
        ("rejected-pending", {"reason": "", "rejection_code": 1001}, "/reason"),
        ("rejected-pending", {"reason": "x", "rejection_code": 4242}, "/rejection_code"),
        ("rejected-pending", {"reason": "x", "rejection_code": "1002"}, "/rejection_code"),
        ("authorized", {"reason": "x", "host_messaging": "yes"}, "/host_messaging"),
    ],
)
def test_invalid_decisions_are_422(
    api: httpx.Client, sandbox: SandboxServer, status: str, body: dict, pointer: str | None
) -> None:
    po = _first(sandbox)
    response = api.patch(f"/portouts/{po.id}/{status}", json=body)
    assert response.status_code == 422
    error = _error(response)
    assert set(error) >= {"code", "title", "detail", "source"}
    if pointer:
        assert error["source"] == {"pointer": pointer}
    else:
        assert error["source"] == {"parameter": "status"}
    assert sandbox.state.portouts[po.id].status == "pending"


def test_ineligible_code_for_this_portout_is_422(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = next(
        p
        for p in sandbox.state.portouts.values()
        if p.status == "pending" and 1003 not in p.rejection_codes
    )
    response = api.patch(
        f"/portouts/{po.id}/rejected-pending", json={"reason": "x", "rejection_code": 1003}
    )
    assert response.status_code == 422
    assert "not eligible" in _error(response)["detail"]


def test_malformed_json_body_is_400(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    response = api.patch(
        f"/portouts/{po.id}/authorized",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_rejected_pending_becomes_rejected_after_the_review_delay(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    po = _first(sandbox)
    api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "Not our customer"})
    assert api.get(f"/portouts/{po.id}").json()["data"]["status"] == "rejected-pending"
    later = datetime.now(UTC) + timedelta(hours=2)
    assert sandbox.state.advance(now=later) >= 1
    assert api.get(f"/portouts/{po.id}").json()["data"]["status"] == "rejected"
    events = api.get("/portouts/events", params={"filter[portout_id]": po.id}).json()["data"]
    assert [e["payload"]["status"] for e in events[:2]] == ["rejected", "rejected-pending"]
    assert events[0]["payload"]["rejection_reason"] == "Not our customer"


def test_authorized_becomes_ported_when_the_foc_date_passes(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    po = _first(sandbox)
    api.patch(f"/portouts/{po.id}/authorized", json={"reason": ""})
    sandbox.state.change_foc_date(po.id, datetime.now(UTC) - timedelta(minutes=1))
    data = api.get(f"/portouts/{po.id}").json()["data"]
    assert data["status"] == "ported" and data["already_ported"] is True
    types = [
        e["event_type"]
        for e in api.get("/portouts/events", params={"filter[portout_id]": po.id}).json()["data"]
    ]
    assert types[:3] == [
        "portout.status_changed",
        "portout.foc_date_changed",
        "portout.status_changed",
    ]


def test_carrier_cancel_and_invalid_operator_transition(sandbox: SandboxServer) -> None:
    from telnyx_sandbox.errors import SandboxError

    po = _first(sandbox)
    sandbox.state.change_status(po.id, "canceled")
    assert po.status == "canceled"
    with pytest.raises(SandboxError):
        sandbox.state.change_status(po.id, "authorized")


# ---------------------------------------------------------------- comments & documents


def test_comments_list_and_create(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = next(p for p in sandbox.state.portouts.values() if sandbox.state.comments.get(p.id))
    listed = api.get(f"/portouts/{po.id}/comments").json()
    assert listed["meta"]["total_results"] == len(listed["data"]) >= 1
    created = api.post(f"/portouts/{po.id}/comments", json={"body": "Checking with customer"})
    assert created.status_code == 201
    comment = created.json()["data"]
    assert comment["body"] == "Checking with customer" and comment["portout_id"] == po.id
    assert comment["user_id"] is not None
    again = api.get(f"/portouts/{po.id}/comments").json()["data"]
    assert again[-1]["id"] == comment["id"]
    event = api.get(
        "/portouts/events",
        params={"filter[portout_id]": po.id, "filter[event_type]": "portout.new_comment"},
    ).json()["data"][0]
    assert event["payload"] == {
        "id": comment["id"],
        "portout_id": po.id,
        "user_id": comment["user_id"],
        "comment": "Checking with customer",
    }
    empty = api.post(f"/portouts/{po.id}/comments", json={"body": ""})
    assert empty.status_code == 422 and _error(empty)["source"] == {"pointer": "/body"}
    assert api.get("/portouts/nope/comments").status_code == 404


def test_seeded_comments_come_from_staff_our_team_and_the_gaining_carrier(
    sandbox: SandboxServer,
) -> None:
    state = sandbox.state
    authors = {
        "staff" if c.user_id is None else "team" if c.user_id == po.user_id else "carrier"
        for po in state.portouts.values()
        for c in state.comments.get(po.id, ())
    }
    assert authors == {"staff", "team", "carrier"}


def test_traffic_posts_comments_as_staff_and_as_the_gaining_carrier(
    sandbox: SandboxServer,
) -> None:
    traffic = TrafficGenerator(sandbox.state, interval=60, seed=5)
    said = {traffic._comment() for _ in range(30)}
    assert any(s and s.startswith("staff comment") for s in said)
    assert any(s and s.startswith("gaining carrier's comment") for s in said)


def test_documents_multipart_json_metadata_and_download(api: httpx.Client) -> None:
    pdf = b"%PDF-1.4\nletter of authorization\n"
    multipart = api.post("/documents", files={"file": ("my loa.pdf", pdf, "application/pdf")})
    assert multipart.status_code == 200
    doc = multipart.json()["data"]
    assert doc["filename"] == "myloa.pdf" and doc["size"] == {"unit": "bytes", "amount": len(pdf)}
    assert doc["record_type"] == "document" and doc["content_type"] == "application/pdf"
    assert api.get(f"/documents/{doc['id']}").json()["data"]["sha256"] == doc["sha256"]
    download = api.get(f"/documents/{doc['id']}/download")
    assert download.content == pdf and download.headers["content-type"] == "application/pdf"
    as_json = api.post(
        "/documents",
        json={"file": base64.b64encode(b"invoice text").decode(), "filename": "invoice.txt"},
    )
    assert as_json.status_code == 200
    assert api.get(f"/documents/{as_json.json()['data']['id']}/download").content == (
        b"invoice text"
    )
    link = api.get(f"/documents/{doc['id']}/download_link").json()["data"]["url"]
    assert httpx.get(link).content == pdf
    assert api.get("/documents/nope").status_code == 404
    assert api.post("/documents", json={"filename": "x.pdf"}).status_code == 422
    assert api.post("/documents", json={"file": "***", "filename": "x"}).status_code == 422


def test_supporting_documents(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    doc = api.post("/documents", files={"file": ("loa.pdf", b"%PDF-1.4 x", "application/pdf")})
    doc_id = doc.json()["data"]["id"]
    created = api.post(
        f"/portouts/{po.id}/supporting_documents",
        json={"documents": [{"type": "loa", "document_id": doc_id}]},
    )
    assert created.status_code == 201
    item = created.json()["data"][0]
    assert item["document_id"] == doc_id and item["type"] == "loa"
    assert item["record_type"] == "supporting_document" and item["portout_id"] == po.id
    listed = api.get(f"/portouts/{po.id}/supporting_documents")
    assert listed.status_code == 201  # as documented
    assert [d["id"] for d in listed.json()["data"]] == [item["id"]]
    for bad, pointer in [
        ({"documents": []}, "/documents"),
        ({"documents": [{"type": "passport", "document_id": doc_id}]}, "/documents/0/type"),
        ({"documents": [{"type": "loa", "document_id": "nope"}]}, "/documents/0/document_id"),
        ({"documents": [{"type": "loa", "document_id": doc_id}] * 11}, "/documents"),
    ]:
        response = api.post(f"/portouts/{po.id}/supporting_documents", json=bad)
        assert response.status_code == 422 and _error(response)["source"]["pointer"] == pointer


def test_seeded_supporting_documents_are_downloadable(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    pid, docs = next((k, v) for k, v in sandbox.state.supporting_documents.items() if v)
    listed = api.get(f"/portouts/{pid}/supporting_documents").json()["data"]
    assert {d["document_id"] for d in listed} == {d.document_id for d in docs}
    content = api.get(f"/documents/{listed[0]['document_id']}/download").content
    assert content.startswith(b"%PDF") and content.rstrip().endswith(b"%%EOF")


# ---------------------------------------------------------------- events


def test_events_list_filters_get_and_404(api: httpx.Client, sandbox: SandboxServer) -> None:
    body = api.get("/portouts/events", params={"page[size]": 250}).json()
    assert body["meta"]["total_results"] == len(sandbox.state.events)
    assert len(body["data"]) == min(250, len(sandbox.state.events))
    assert set(body["data"][0]) == EVENT_FIELDS
    assert body["data"][0]["record_type"] == "portout_event"
    created = [e["created_at"] for e in body["data"]]
    assert created == sorted(created, reverse=True)
    for event_type in ("portout.status_changed", "portout.new_comment", "portout.foc_date_changed"):
        typed = api.get("/portouts/events", params={"filter[event_type]": event_type}).json()
        assert typed["data"] and {e["event_type"] for e in typed["data"]} == {event_type}
    cutoff = _iso(datetime.now(UTC) - timedelta(days=1))
    recent = api.get(
        "/portouts/events", params={"filter[created_at][gte]": cutoff, "page[size]": 250}
    ).json()
    assert all(e["created_at"] >= cutoff for e in recent["data"])
    old = api.get("/portouts/events", params={"filter[created_at][lte]": cutoff}).json()
    assert old["meta"]["total_results"] + recent["meta"]["total_results"] == len(
        sandbox.state.events
    )
    one = body["data"][0]
    assert api.get(f"/portouts/events/{one['id']}").json()["data"] == one
    assert api.get("/portouts/events/nope").status_code == 404
    bad = api.get("/portouts/events", params={"filter[event_type]": "portout.created"})
    assert bad.status_code == 422


def test_every_seeded_portout_has_a_creation_event_and_history(sandbox: SandboxServer) -> None:
    state = sandbox.state
    for po in state.portouts.values():
        events = [state.events[i] for i in state._events_by_portout[po.id]]
        status_events = [e for e in events if e.event_type == "portout.status_changed"]
        assert status_events[0].status == "pending"
        assert status_events[-1].status == po.status


# ---------------------------------------------------------------- reports


def test_report_lifecycle_with_real_csv(api: httpx.Client, sandbox: SandboxServer) -> None:
    response = api.post(
        "/portouts/reports",
        json={
            "report_type": "export_portouts_csv",
            "params": {"filters": {"status__in": ["pending", "authorized"]}},
        },
    )
    assert response.status_code == 201
    report = response.json()["data"]
    assert report["status"] == "pending" and report["document_id"] is None
    assert report["record_type"] == "portout_report"
    done = api.get(f"/portouts/reports/{report['id']}").json()["data"]
    assert done["status"] == "completed" and done["document_id"]
    rows = list(
        csv.DictReader(io.StringIO(api.get(f"/documents/{done['document_id']}/download").text))
    )
    expected = {
        p.id for p in sandbox.state.portouts.values() if p.status in ("pending", "authorized")
    }
    assert {r["id"] for r in rows} == expected
    listed = api.get("/portouts/reports", params={"filter[status]": "completed"}).json()
    assert [r["id"] for r in listed["data"]] == [report["id"]]
    assert listed["meta"]["total_results"] == 1
    assert api.get("/portouts/reports", params={"filter[status]": "pending"}).json()["data"] == []
    assert api.get("/portouts/reports/nope").status_code == 404


def test_report_filters_are_applied(api: httpx.Client, sandbox: SandboxServer) -> None:
    po = _first(sandbox)
    filters = {
        "phone_numbers__overlaps": [po.phone_numbers[0], "+15550000000"],
        "end_user_name": po.end_user_name.split()[0].lower(),
        "customer_reference__in": [po.customer_reference],
        "created_at__gt": _iso(datetime.fromtimestamp(po.created_ts - 1, UTC)),
        "created_at__lt": _iso(datetime.now(UTC) + timedelta(minutes=1)),
    }
    report = api.post(
        "/portouts/reports",
        json={"report_type": "export_portouts_csv", "params": {"filters": filters}},
    ).json()["data"]
    done = api.get(f"/portouts/reports/{report['id']}").json()["data"]
    rows = list(
        csv.DictReader(io.StringIO(api.get(f"/documents/{done['document_id']}/download").text))
    )
    assert [r["id"] for r in rows] == [po.id]


def test_report_pending_until_the_delay_passes(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.state.report_delay = 3600
    body = {"report_type": "export_portouts_csv", "params": {"filters": {}}}
    report = api.post("/portouts/reports", json=body).json()["data"]
    assert api.get(f"/portouts/reports/{report['id']}").json()["data"]["status"] == "pending"
    sandbox.state.advance(now=datetime.now(UTC) + timedelta(hours=2))
    assert api.get(f"/portouts/reports/{report['id']}").json()["data"]["status"] == "completed"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"params": {"filters": {}}}, "/report_type"),
        ({"report_type": "export_numbers", "params": {"filters": {}}}, "/report_type"),
        ({"report_type": "export_portouts_csv"}, "/params"),
        ({"report_type": "export_portouts_csv", "params": {}}, "/params/filters"),
        (
            {"report_type": "export_portouts_csv", "params": {"filters": {"status__in": ["x"]}}},
            "/params/filters/status__in",
        ),
        (
            {"report_type": "export_portouts_csv", "params": {"filters": {"created_at__gt": "x"}}},
            "/params/filters/created_at__gt",
        ),
        (
            {"report_type": "export_portouts_csv", "params": {"filters": {"colour": "red"}}},
            "/params/filters/colour",
        ),
    ],
)
def test_invalid_reports_are_422(api: httpx.Client, body: dict, pointer: str) -> None:
    response = api.post("/portouts/reports", json=body)
    assert response.status_code == 422
    assert _error(response)["source"] == {"pointer": pointer}


def test_report_list_filter_validation(api: httpx.Client) -> None:
    response = api.get("/portouts/reports", params={"filter[status]": "done"})
    assert response.status_code == 422


# ---------------------------------------------------------------- seeding


def test_seed_is_realistic(sandbox: SandboxServer) -> None:
    state = SandboxState()
    seed_state(state, 600, 3)
    portouts = list(state.portouts.values())
    assert {p.status for p in portouts} == set(STATUSES)
    counts = Counter(p.status for p in portouts)
    assert counts["pending"] == max(counts.values())
    assert {p.country_code for p in portouts} == {"US", "CA"}
    assert all(E164.match(n) for p in portouts for n in p.phone_numbers)
    assert max(len(p.phone_numbers) for p in portouts) > 20
    assert any(1 < len(p.phone_numbers) < 6 for p in portouts)
    carriers = {(p.carrier_name, p.spid) for p in portouts}
    assert {
        ("T-Mobile", "6529"),
        ("Verizon Wireless", "6006"),
        ("AT&T Mobility", "6214"),
        ("Rogers", "8821"),
    } <= carriers
    keys = [p.support_key for p in portouts]
    assert len(set(keys)) == len(keys) and all(re.fullmatch(r"PO_\d{6}", k) for k in keys)
    now = state.now()
    window = state.authorize_after
    left = [(p.created_ts + window - now) / 3600 for p in portouts if p.status == "pending"]
    due_soon, past = sum(0 < h <= 4 for h in left), sum(h <= 0 for h in left)
    in_window = sum(h > 4 for h in left)
    assert in_window > 0.6 * len(left) and 0 < due_soon < in_window and 0 < past < due_soon * 2
    # Telnyx has not authorized those past the window yet: it will, within hours
    assert all(
        now < p.authorize_ts < now + 7 * 3600
        for p in portouts
        if p.status == "pending" and p.created_ts + window < now
    )
    assert all(p.foc_ts > now for p in portouts if p.status in ("pending", "authorized"))
    assert all(p.rejection_code in p.rejection_codes for p in portouts if p.status == "rejected")
    assert all({1001, 1002} <= set(p.rejection_codes) for p in portouts)
    assert len({p.rejection_codes for p in portouts}) > 5
    assert all(p.ported_out_ts is not None for p in portouts if p.status == "ported")


def test_seed_is_deterministic() -> None:
    first, second = SandboxState(), SandboxState()
    seed_state(first, 50, 11)
    seed_state(second, 50, 11)
    assert list(first.portouts) == list(second.portouts)
    assert list(first.events) == list(second.events)
    other = SandboxState()
    seed_state(other, 50, 12)
    assert list(other.portouts) != list(first.portouts)


def test_create_portout_for_tests(sandbox: SandboxServer, api: httpx.Client) -> None:
    po = sandbox.state.create_portout(
        phone_numbers=["+13035551212"], carrier_name="T-Mobile", spid="6529"
    )
    body = api.get("/portouts", params={"filter[phone_number]": "+13035551212"}).json()
    assert [p["id"] for p in body["data"]] == [po.id]
    assert body["data"][0]["status"] == "pending"
    first = api.get("/portouts", params={"page[size]": 1}).json()["data"][0]
    assert first["id"] == po.id  # newest first


# ---------------------------------------------------------------- webhooks


def _verify(sandbox: SandboxServer, headers: dict[str, str], body: bytes) -> None:
    lowered = {k.lower(): v for k, v in headers.items()}
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(sandbox.public_key_b64))
    signed = lowered["telnyx-timestamp"].encode() + b"|" + body
    key.verify(base64.b64decode(lowered["telnyx-signature-ed25519"]), signed)


def test_webhooks_are_signed_and_shaped_like_telnyx(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    sandbox.webhook_url = webhook_receiver.url
    po = _first(sandbox)
    api.patch(f"/portouts/{po.id}/rejected-pending", json={"reason": "Unknown customer"})
    sandbox.state.change_foc_date(po.id, datetime.now(UTC) + timedelta(days=9))
    sandbox.state.add_comment(po.id, "Porting Ops is reviewing")
    received = webhook_receiver.wait_for(3)
    assert len(received) == 3
    bodies = [json.loads(r.body) for r in received]
    for item in received:
        _verify(sandbox, item.headers, item.body)
        assert item.headers["Content-Type"] == "application/json"
    by_type = {b["data"]["event_type"]: b for b in bodies}
    status = by_type["portout.status_changed"]
    assert set(status["data"]) == {"id", "event_type", "occurred_at", "payload", "record_type"}
    assert status["data"]["record_type"] == "event"
    assert status["meta"] == {"attempt": 1, "delivered_to": webhook_receiver.url}
    assert status["data"]["payload"]["id"] == po.id
    assert status["data"]["payload"]["status"] == "rejected-pending"
    assert status["data"]["payload"]["rejection_reason"] == "Unknown customer"
    assert status["data"]["payload"]["subscriber_name"] == po.end_user_name
    foc = by_type["portout.foc_date_changed"]["data"]["payload"]
    assert foc["id"] == po.id and foc["foc_date"].endswith("Z")
    comment = by_type["portout.new_comment"]["data"]["payload"]
    assert comment["portout_id"] == po.id and comment["user_id"] is None
    assert api.get(f"/portouts/events/{status['data']['id']}").status_code == 200


def test_tampered_webhook_fails_verification(sandbox: SandboxServer, webhook_receiver) -> None:
    from cryptography.exceptions import InvalidSignature

    sandbox.webhook_url = webhook_receiver.url
    sandbox.state.add_comment(_first(sandbox).id, "hello")
    item = webhook_receiver.wait_for(1)[0]
    with pytest.raises(InvalidSignature):
        _verify(sandbox, item.headers, item.body.replace(b"hello", b"HELLO"))


def test_failed_deliveries_are_retried_with_increasing_attempt(
    sandbox: SandboxServer, webhook_receiver
) -> None:
    sandbox.webhook_url = webhook_receiver.url
    webhook_receiver.statuses = [500, 503]
    sandbox.state.add_comment(_first(sandbox).id, "retry me")
    received = webhook_receiver.wait_for(3)
    assert sandbox.webhooks.wait_idle()
    attempts = [json.loads(r.body)["meta"]["attempt"] for r in received]
    assert attempts == [1, 2, 3]
    assert [d.status_code for d in sandbox.webhooks.deliveries] == [500, 503, 200]
    assert len({json.loads(r.body)["data"]["id"] for r in received}) == 1


def test_delivery_gives_up_after_max_attempts(sandbox: SandboxServer) -> None:
    sandbox.webhook_url = "http://127.0.0.1:9/unreachable"
    sandbox.state.add_comment(_first(sandbox).id, "nobody listens")
    assert sandbox.webhooks.wait_idle(timeout=10)
    attempts = sandbox.webhooks.deliveries
    assert [d.attempt for d in attempts] == [1, 2, 3, 4]
    assert all(d.error and d.status_code is None for d in attempts)


def test_republish_redelivers_without_new_event(
    api: httpx.Client, sandbox: SandboxServer, webhook_receiver
) -> None:
    event_id = sandbox.state._event_order[0][1]
    count = len(sandbox.state.events)
    sandbox.webhook_url = webhook_receiver.url
    response = api.post(f"/portouts/events/{event_id}/republish")
    assert response.status_code == 204 and response.content == b""
    received = webhook_receiver.wait_for(1)
    assert json.loads(received[0].body)["data"]["id"] == event_id
    assert len(sandbox.state.events) == count
    assert api.post("/portouts/events/nope/republish").status_code == 404


def test_no_webhook_url_means_no_delivery(sandbox: SandboxServer) -> None:
    sandbox.state.add_comment(_first(sandbox).id, "silent")
    assert sandbox.webhooks.wait_idle() and sandbox.webhooks.deliveries == []


def test_traffic_generates_changes_with_events(sandbox: SandboxServer) -> None:
    before_events = len(sandbox.state.events)
    before = len(sandbox.state.portouts)
    traffic = TrafficGenerator(sandbox.state, interval=60, seed=5)
    results = [traffic.step() for _ in range(40)]
    assert sum(r is not None for r in results) > 20
    assert len(sandbox.state.portouts) > before
    assert len(sandbox.state.events) > before_events + 20
    kinds = {r.split()[0] for r in results if r}
    assert len(kinds) >= 3


# ---------------------------------------------------------------- faults


def test_latency_fault_makes_a_short_timeout_expire(sandbox: SandboxServer) -> None:
    url = sandbox.base_url + "/portouts"
    headers = {"Authorization": "Bearer k"}
    sandbox.faults.configure(latency_ms=400)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, headers=headers, timeout=0.1)
    sandbox.faults.configure(latency_ms=0)
    assert httpx.get(url, headers=headers, timeout=2).status_code == 200


def test_rate_limit_fault_has_retry_after(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.configure(rate_limit_ratio=1.0, retry_after=7)
    response = api.get("/portouts")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    error = _error(response)
    assert error["code"] == "10011" and error["meta"]["retryable"] is True


def test_error_fault_gives_500_and_503_without_side_effects(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    po = _first(sandbox)
    sandbox.faults.configure(error_ratio=1.0, seed=3)
    statuses = {
        api.patch(f"/portouts/{po.id}/authorized", json={"reason": ""}).status_code
        for _ in range(12)
    }
    assert statuses == {500, 503}
    assert sandbox.state.portouts[po.id].status == "pending"
    assert sandbox.faults.counts["500"] + sandbox.faults.counts["503"] == 12


def test_fault_ratios_are_deterministic_for_a_seed(sandbox: SandboxServer) -> None:
    def run() -> list[int]:
        sandbox.faults.configure(error_ratio=0.3, rate_limit_ratio=0.2, seed=42)
        with httpx.Client(headers={"Authorization": "Bearer k"}) as client:
            return [client.get(sandbox.base_url + "/portouts").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {200, 429} <= set(first) and set(first) & {500, 503}


def test_drop_fault_closes_without_response(sandbox: SandboxServer) -> None:
    sandbox.faults.queue("drop")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(sandbox.base_url + "/portouts", headers={"Authorization": "Bearer k"})
    assert sandbox.requests[-1][2] == "drop"
    ok = httpx.get(sandbox.base_url + "/portouts", headers={"Authorization": "Bearer k"})
    assert ok.status_code == 200


def test_slow_fault_exceeds_client_timeout(sandbox: SandboxServer) -> None:
    sandbox.faults.configure(slow_ratio=1.0, slow_seconds=0.5)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            sandbox.base_url + "/portouts", headers={"Authorization": "Bearer k"}, timeout=0.1
        )
    assert sandbox.faults.counts["slow"] == 1


def test_queued_faults_run_in_order(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.queue("429", "503", "500")
    assert [api.get("/portouts").status_code for _ in range(4)] == [429, 503, 500, 200]
    with pytest.raises(ValueError):
        sandbox.faults.queue("418")


def test_fault_options_are_constructor_kwargs() -> None:
    server = SandboxServer(seed_count=1, error_ratio=0.5, latency_ms=10, fault_seed=9)
    assert server.faults.config.error_ratio == 0.5 and server.faults.config.seed == 9
    with pytest.raises(TypeError):
        SandboxServer(seed_count=1, explode_ratio=1.0)
    with pytest.raises(ValueError):
        SandboxServer(seed_count=1, drop_ratio=2.0)


# ---------------------------------------------------------------- command line


def test_command_line_starts_prints_key_and_writes_it(tmp_path) -> None:
    key_file = tmp_path / "public.key"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "telnyx_sandbox",
            "--port",
            "0",
            "--seed",
            "25",
            "--public-key-file",
            str(key_file),
            "--api-key",
            "KEYcli",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        base_url = re.search(r"(http://\S+/v2)", first).group(1)  # type: ignore[union-attr]
        key = second.rsplit(" ", 1)[-1].strip()
        assert key_file.read_text().strip() == key and len(base64.b64decode(key)) == 32
        ok = httpx.get(base_url + "/portouts", headers={"Authorization": "Bearer KEYcli"})
        assert ok.json()["meta"]["total_results"] == 25
        assert (
            httpx.get(base_url + "/portouts", headers={"Authorization": "Bearer other"}).status_code
            == 401
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
