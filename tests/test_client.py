"""Telnyx client: every operation's method, path, query string and body; pagination; types."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, timedelta, timezone

import httpx
import pytest

from portouts.telnyx import (
    MAX_DOCUMENT_BYTES,
    CommentData,
    DocumentData,
    DocumentTooLargeError,
    EventData,
    Page,
    PortoutData,
    RejectionCodeData,
    ReportData,
    SupportingDocumentData,
    TelnyxClient,
    get_client,
)
from portouts.telnyx import fields as telnyx_fields
from tests.fixtures_client import TEST_API_KEY, TEST_BASE_URL, page_json, portout_json

PID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"
EVENT_ID = "eef3340b-8903-4466-b445-89b697315a3a"


def params_of(route) -> dict[str, str]:
    return dict(route.calls.last.request.url.params)


def json_of(route):
    return json.loads(route.calls.last.request.content)


# -- port-outs -----------------------------------------------------------------


def test_list_portouts_sends_every_filter_deep_object_encoded(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").respond(200, json=page_json([], page=1, total_pages=0))

    result = list(
        telnyx_client.list_portouts(
            status="pending",
            status_in=["pending", "authorized"],
            carrier_name="Gaining Co",
            spid="987H",
            pon="PON-1",
            phone_number="+13035551212",
            support_key="PO_abc123",
            country_code="US",
            country_code_in=["CA", "US"],
            foc_date=date(2024, 9, 4),
            inserted_at_gte=datetime(2024, 9, 1, 12, 30, tzinfo=timezone(timedelta(hours=2))),
            inserted_at_lte=date(2024, 9, 30),
            ported_out_at_gte="2024-08-01T00:00:00.000Z",
            ported_out_at_lte=datetime(2024, 8, 31, 23, 0, 0, 250000, tzinfo=UTC),
        )
    )

    assert result == []
    assert route.call_count == 1
    assert params_of(route) == {
        "filter[status]": "pending",
        "filter[status_in]": "pending,authorized",
        "filter[carrier_name]": "Gaining Co",
        "filter[spid]": "987H",
        "filter[pon]": "PON-1",
        "filter[phone_number]": "+13035551212",
        "filter[support_key]": "PO_abc123",
        "filter[country_code]": "US",
        "filter[country_code_in]": "CA,US",
        "filter[foc_date]": "2024-09-04T00:00:00Z",
        "filter[inserted_at][gte]": "2024-09-01T10:30:00Z",
        "filter[inserted_at][lte]": "2024-09-30T23:59:59.999Z",
        "filter[ported_out_at][gte]": "2024-08-01T00:00:00.000Z",
        "filter[ported_out_at][lte]": "2024-08-31T23:00:00.250Z",
        "page[number]": "1",
        "page[size]": "250",
    }
    # brackets travel percent-encoded, the list comma-joined
    raw = route.calls.last.request.url.query.decode()
    assert "filter%5Bstatus_in%5D=pending%2Cauthorized" in raw
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TEST_API_KEY}"


def test_list_portouts_without_filters_sends_only_paging(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").respond(200, json=page_json([], page=1, total_pages=1))
    assert list(telnyx_client.list_portouts(status_in=[], page_size=50)) == []
    assert params_of(route) == {"page[number]": "1", "page[size]": "50"}


def test_list_portouts_walks_every_page(telnyx_client, telnyx_api):
    pages = {
        n: page_json(
            [portout_json(id=f"po-{n}-{i}") for i in range(2)], page=n, total_pages=3, size=2
        )
        for n in (1, 2, 3)
    }

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[int(request.url.params["page[number]"])])

    route = telnyx_api.get("/portouts").mock(side_effect=answer)

    ids = [p.id for p in telnyx_client.list_portouts(status="pending", page_size=2)]

    assert ids == ["po-1-0", "po-1-1", "po-2-0", "po-2-1", "po-3-0", "po-3-1"]
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"filter[status]": "pending", "page[number]": str(n), "page[size]": "2"} for n in (1, 2, 3)
    ]


def test_list_portouts_is_lazy(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").respond(
        200, json=page_json([portout_json()], page=1, total_pages=5, size=1)
    )
    iterator = telnyx_client.list_portouts(page_size=1)
    assert route.call_count == 0
    next(iterator)
    assert route.call_count == 1


def test_pagination_stops_on_an_empty_page(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").mock(
        side_effect=[
            httpx.Response(200, json=page_json([portout_json(id="a")], page=1, total_pages=9)),
            httpx.Response(200, json=page_json([], page=2, total_pages=9)),
        ]
    )
    assert [p.id for p in telnyx_client.list_portouts()] == ["a"]
    assert route.call_count == 2


def test_pagination_stops_without_meta(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").respond(200, json={"data": [portout_json(id="a")]})
    assert [p.id for p in telnyx_client.list_portouts()] == ["a"]
    assert route.call_count == 1


def test_pagination_accepts_float_meta_and_never_asks_a_page_twice(telnyx_client, telnyx_api):
    # `Metadata` is type number: 2.0 must work; a server stuck on page 1 must not loop forever.
    route = telnyx_api.get("/portouts").mock(
        side_effect=[
            httpx.Response(
                200, json={"data": [portout_json(id="a")], "meta": {"total_pages": 2.0}}
            ),
            httpx.Response(
                200,
                json={"data": [portout_json(id="b")], "meta": {"page_number": 1, "total_pages": 2}},
            ),
        ]
    )
    assert [p.id for p in telnyx_client.list_portouts()] == ["a", "b"]
    assert [c.request.url.params["page[number]"] for c in route.calls] == ["1", "2"]


def test_list_portouts_page_returns_one_page_with_meta(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts").respond(
        200, json=page_json([portout_json()], page=3, total_pages=4, size=25)
    )
    page = telnyx_client.list_portouts_page(page_number=3, page_size=25, carrier_name="X")
    assert isinstance(page, Page)
    assert [p.id for p in page.data] == [PID]
    assert (page.meta.page_number, page.meta.page_size, page.meta.total_pages) == (3, 25, 4)
    assert page.meta.total_results == 100
    assert page.has_next
    assert params_of(route) == {
        "filter[carrier_name]": "X",
        "page[number]": "3",
        "page[size]": "25",
    }


def test_page_size_defaults_to_the_client_setting_and_is_bounded(telnyx_api):
    route = telnyx_api.get("/portouts").respond(200, json=page_json([], page=1, total_pages=1))
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL, page_size=100) as client:
        client.list_portouts_page()
        assert params_of(route)["page[size]"] == "100"
        with pytest.raises(ValueError, match="page_size"):
            client.list_portouts_page(page_size=251)
        with pytest.raises(ValueError, match="page_number"):
            client.list_portouts_page(page_number=0)
    with pytest.raises(ValueError, match="page_size"):
        TelnyxClient(TEST_API_KEY, page_size=0)
    assert route.call_count == 1


def test_unknown_filter_name_is_refused(telnyx_client, telnyx_api):
    with pytest.raises(TypeError, match="statuses"):
        telnyx_client.list_portouts_page(statuses=["pending"])  # type: ignore[call-arg]
    assert not telnyx_api.calls


def test_get_portout_parses_every_field(telnyx_client, telnyx_api):
    body = portout_json(brand_new_field={"x": 1})
    route = telnyx_api.get(f"/portouts/{PID}").respond(200, json={"data": body})

    portout = telnyx_client.get_portout(PID)

    assert route.called
    assert portout == PortoutData(
        id=PID,
        record_type="portout",
        phone_numbers=["+35312345678"],
        authorized_name="McPortersen",
        carrier_name="test",
        current_carrier="telnyx",
        end_user_name="McPortersen",
        city="Chicago",
        state="IL",
        zip="00000",
        lsr=["https://example.com/files/lsr.pdf"],
        pon="00000000",
        reason=None,
        rejection_code=1002,
        service_address="000 Example Street",
        foc_date=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        requested_foc_date=datetime(2018, 2, 3, 22, 25, 27, 521000, tzinfo=UTC),
        spid="0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
        support_key="PO_764725",
        status="pending",
        already_ported=False,
        user_id="7865816a-ee85-4e50-b19e-52983dcc6d4a",
        vendor="0e66ed3b-37e6-4fed-93d6-a30ce2493661",
        created_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        inserted_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        updated_at=datetime(2018, 2, 4, 8, 0, tzinfo=UTC),
        host_messaging=False,
    )
    assert portout.raw["brand_new_field"] == {"x": 1}


def test_portout_tolerates_nulls_garbage_and_unknown_status(caplog):
    telnyx_fields._warned.clear()
    caplog.set_level(logging.WARNING, logger="portouts.telnyx")
    nulls = dict.fromkeys(portout_json())
    empty = PortoutData.from_api({**nulls, "status": "on-hold", "foc_date": "not a date"})
    assert empty.status == "on-hold"
    assert empty.phone_numbers == [] and empty.lsr == []
    assert empty.foc_date is None and empty.rejection_code is None
    assert empty.host_messaging is False
    PortoutData.from_api({"status": "on-hold"})
    assert PortoutData.from_api({}).id is None
    warnings = [r for r in caplog.records if "on-hold" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    # naive timestamps are read as UTC; offsets are converted to UTC
    assert PortoutData.from_api({"created_at": "2024-01-01T10:00:00"}).created_at == datetime(
        2024, 1, 1, 10, tzinfo=UTC
    )
    assert PortoutData.from_api({"created_at": "2024-01-01T12:00:00+02:00"}).created_at == datetime(
        2024, 1, 1, 10, tzinfo=UTC
    )


def test_types_are_frozen():
    portout = PortoutData.from_api(portout_json())
    with pytest.raises(AttributeError):
        portout.status = "authorized"  # type: ignore[misc]


@pytest.mark.parametrize("host_messaging", [False, True])
def test_authorize_patches_status_path_with_reason(telnyx_client, telnyx_api, host_messaging):
    route = telnyx_api.patch(f"/portouts/{PID}/authorized").respond(
        200, json={"data": portout_json(status="authorized", host_messaging=host_messaging)}
    )
    portout = telnyx_client.update_portout_status(
        PID, status="authorized", reason="Customer confirmed", host_messaging=host_messaging
    )
    assert portout.status == "authorized" and portout.host_messaging is host_messaging
    assert json_of(route) == {"reason": "Customer confirmed", "host_messaging": host_messaging}
    assert route.calls.last.request.headers["content-type"] == "application/json"


def test_reject_sends_rejection_code_as_extra_body_field(telnyx_client, telnyx_api):
    route = telnyx_api.patch(f"/portouts/{PID}/rejected-pending").respond(
        200, json={"data": portout_json(status="rejected-pending", reason="Wrong PIN")}
    )
    portout = telnyx_client.update_portout_status(
        PID, status="rejected-pending", reason="Wrong PIN", rejection_code=1002
    )
    assert portout.status == "rejected-pending" and portout.reason == "Wrong PIN"
    assert json_of(route) == {
        "reason": "Wrong PIN",
        "host_messaging": False,
        "rejection_code": 1002,
    }


def test_update_status_refuses_bad_arguments_locally(telnyx_client, telnyx_api):
    with pytest.raises(ValueError, match="status must be one of"):
        telnyx_client.update_portout_status(PID, status="ported", reason="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rejection_code"):
        telnyx_client.update_portout_status(
            PID, status="authorized", reason="ok", rejection_code=1002
        )
    with pytest.raises(ValueError, match="portout_id is empty"):
        telnyx_client.update_portout_status("", status="authorized", reason="ok")
    assert not telnyx_api.calls


def test_ids_are_quoted_as_one_path_segment(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts/a%2F..%2Fb").respond(200, json={"data": portout_json()})
    telnyx_client.get_portout("a/../b")
    assert route.called


def test_list_rejection_codes_with_code_and_code_in(telnyx_client, telnyx_api):
    codes = [
        {"code": 1001, "description": "Other", "reason_required": True},
        {"code": 1002, "description": "Invalid PIN", "reason_required": False},
    ]
    route = telnyx_api.get(f"/portouts/rejections/{PID}").respond(200, json={"data": codes})

    assert telnyx_client.list_rejection_codes(PID) == [
        RejectionCodeData(code=1001, description="Other", reason_required=True),
        RejectionCodeData(code=1002, description="Invalid PIN", reason_required=False),
    ]
    assert params_of(route) == {}
    telnyx_client.list_rejection_codes(PID, code=1002)
    assert params_of(route) == {"filter[code]": "1002"}
    telnyx_client.list_rejection_codes(PID, code_in=[1002, 1003])
    assert params_of(route) == {"filter[code][in]": "1002,1003"}
    with pytest.raises(ValueError, match="not both"):
        telnyx_client.list_rejection_codes(PID, code=1, code_in=[2])
    assert route.call_count == 3


def test_comments_list_and_create(telnyx_client, telnyx_api):
    comment = {
        "id": "c1",
        "record_type": "portout",
        "body": "This is a comment",
        "portout_id": PID,
        "user_id": None,
        "created_at": "2018-02-02T22:25:27.521Z",
    }
    listed = telnyx_api.get(f"/portouts/{PID}/comments").respond(
        200, json=page_json([comment], page=1, total_pages=1)
    )
    created = telnyx_api.post(f"/portouts/{PID}/comments").respond(201, json={"data": comment})

    assert telnyx_client.list_comments(PID) == [
        CommentData(
            id="c1",
            body="This is a comment",
            user_id=None,
            portout_id=PID,
            record_type="portout",
            created_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        )
    ]
    assert params_of(listed) == {}
    result = telnyx_client.create_comment(PID, body="This is a comment")
    assert result.id == "c1"
    assert json_of(created) == {"body": "This is a comment"}
    with pytest.raises(ValueError, match="empty"):
        telnyx_client.create_comment(PID, body="   ")
    assert created.call_count == 1


def test_supporting_documents_list_accepts_201_and_create(telnyx_client, telnyx_api):
    doc = {
        "id": "5a16902a-2ee9-4882-a247-420fc6627b62",
        "record_type": "supporting_document",
        "type": "loa",
        "portout_id": PID,
        "document_id": "f1c5e079-9d82-4f50-95bc-ae2f6b8d84d7",
        "created_at": "2018-02-02T22:25:27.521Z",
        "updated_at": "2018-02-02T22:25:27.521Z",
    }
    path = f"/portouts/{PID}/supporting_documents"
    telnyx_api.get(path).respond(201, json={"data": [doc]})
    created = telnyx_api.post(path).respond(
        201, json={"data": [doc, {**doc, "id": "d2", "type": "invoice"}]}
    )

    listed = telnyx_client.list_supporting_documents(PID)
    assert listed == [
        SupportingDocumentData(
            id=doc["id"],
            type="loa",
            document_id=doc["document_id"],
            portout_id=PID,
            record_type="supporting_document",
            created_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
            updated_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        )
    ]
    result = telnyx_client.create_supporting_documents(
        PID, documents=[("loa", "doc-a"), ("invoice", "doc-b")]
    )
    assert [d.type for d in result] == ["loa", "invoice"]
    assert json_of(created) == {
        "documents": [
            {"type": "loa", "document_id": "doc-a"},
            {"type": "invoice", "document_id": "doc-b"},
        ]
    }


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        ([], "between 1 and 10"),
        ([("loa", f"d{i}") for i in range(11)], "between 1 and 10"),
        ([("bill", "d1")], "'loa' or 'invoice'"),
        ([("loa", "")], "document_id is empty"),
    ],
)
def test_create_supporting_documents_validates_locally(
    telnyx_client, telnyx_api, documents, message
):
    with pytest.raises(ValueError, match=message):
        telnyx_client.create_supporting_documents(PID, documents=documents)
    assert not telnyx_api.calls


# -- events ------------------------------------------------------------------------


def event_json(**overrides):
    data = {
        "id": EVENT_ID,
        "event_type": "portout.status_changed",
        "portout_id": PID,
        "available_notification_methods": ["email", "webhook"],
        "payload_status": "created",
        "payload": {"id": PID, "status": "authorized", "phone_numbers": ["+35312345678"]},
        "record_type": "portout_event",
        "created_at": "2021-03-19T10:07:15.527000Z",
        "updated_at": "2021-03-19T10:07:15.527000Z",
    }
    data.update(overrides)
    return data


def test_list_events_filters_and_pages(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts/events").mock(
        side_effect=[
            httpx.Response(200, json=page_json([event_json(id="e1")], page=1, total_pages=2)),
            httpx.Response(200, json=page_json([event_json(id="e2")], page=2, total_pages=2)),
        ]
    )
    events = list(
        telnyx_client.list_events(
            event_type="portout.new_comment",
            portout_id=PID,
            created_at_gte=datetime(2021, 1, 1, tzinfo=UTC),
            created_at_lte="2021-02-01T00:00:00Z",
            page_size=10,
        )
    )
    assert [e.id for e in events] == ["e1", "e2"]
    assert dict(route.calls[1].request.url.params) == {
        "filter[event_type]": "portout.new_comment",
        "filter[portout_id]": PID,
        "filter[created_at][gte]": "2021-01-01T00:00:00Z",
        "filter[created_at][lte]": "2021-02-01T00:00:00Z",
        "page[number]": "2",
        "page[size]": "10",
    }


def test_list_events_page_and_get_event(telnyx_client, telnyx_api):
    telnyx_api.get("/portouts/events").respond(
        200, json=page_json([event_json()], page=1, total_pages=1)
    )
    route = telnyx_api.get(f"/portouts/events/{EVENT_ID}").respond(200, json={"data": event_json()})

    page = telnyx_client.list_events_page(page_number=1)
    assert page.meta.total_pages == 1 and not page.has_next
    event = telnyx_client.get_event(EVENT_ID)
    assert route.called
    assert event == EventData(
        id=EVENT_ID,
        event_type="portout.status_changed",
        portout_id=PID,
        available_notification_methods=["email", "webhook"],
        payload_status="created",
        payload={"id": PID, "status": "authorized", "phone_numbers": ["+35312345678"]},
        record_type="portout_event",
        created_at=datetime(2021, 3, 19, 10, 7, 15, 527000, tzinfo=UTC),
        updated_at=datetime(2021, 3, 19, 10, 7, 15, 527000, tzinfo=UTC),
    )
    assert page.data == [event]


def test_republish_event_posts_and_accepts_204(telnyx_client, telnyx_api):
    route = telnyx_api.post(f"/portouts/events/{EVENT_ID}/republish").respond(204)
    assert telnyx_client.republish_event(EVENT_ID) is None
    assert route.calls.last.request.content == b""


# -- reports ---------------------------------------------------------------------


def report_json(**overrides):
    data = {
        "id": "rep-1",
        "report_type": "export_portouts_csv",
        "status": "pending",
        "params": {"filters": {"status__in": ["pending"]}},
        "document_id": None,
        "record_type": "portout_report",
        "created_at": "2021-03-19T10:07:15.527000Z",
        "updated_at": "2021-03-19T10:07:15.527000Z",
    }
    data.update(overrides)
    return data


def test_list_reports_with_filters(telnyx_client, telnyx_api):
    route = telnyx_api.get("/portouts/reports").respond(
        200,
        json=page_json(
            [report_json(status="completed", document_id="doc-9")], page=1, total_pages=1
        ),
    )
    reports = list(
        telnyx_client.list_reports(report_type="export_portouts_csv", status="completed")
    )
    assert [(r.id, r.is_completed, r.document_id) for r in reports] == [("rep-1", True, "doc-9")]
    assert params_of(route) == {
        "filter[report_type]": "export_portouts_csv",
        "filter[status]": "completed",
        "page[number]": "1",
        "page[size]": "250",
    }
    assert telnyx_client.list_reports_page(status="pending").data == reports


def test_create_and_get_report(telnyx_client, telnyx_api):
    created = telnyx_api.post("/portouts/reports").respond(201, json={"data": report_json()})
    fetched = telnyx_api.get("/portouts/reports/rep-1").respond(
        200, json={"data": report_json(status="completed", document_id="doc-9")}
    )

    report = telnyx_client.create_report(
        filters={
            "status__in": ("pending", "authorized"),
            "created_at__gt": datetime(2024, 1, 1, tzinfo=UTC),
            "created_at__lt": date(2024, 2, 1),
            "phone_numbers__overlaps": ["+13035551212"],
            "end_user_name": "McPortersen",
            "customer_reference__in": ["ref-1"],
        }
    )
    assert report == ReportData(
        id="rep-1",
        report_type="export_portouts_csv",
        status="pending",
        params={"filters": {"status__in": ["pending"]}},
        document_id=None,
        record_type="portout_report",
        created_at=datetime(2021, 3, 19, 10, 7, 15, 527000, tzinfo=UTC),
        updated_at=datetime(2021, 3, 19, 10, 7, 15, 527000, tzinfo=UTC),
    )
    assert json_of(created) == {
        "report_type": "export_portouts_csv",
        "params": {
            "filters": {
                "status__in": ["pending", "authorized"],
                "created_at__gt": "2024-01-01T00:00:00Z",
                "created_at__lt": "2024-02-01T00:00:00Z",
                "phone_numbers__overlaps": ["+13035551212"],
                "end_user_name": "McPortersen",
                "customer_reference__in": ["ref-1"],
            }
        },
    }
    telnyx_client.create_report(filters={})
    assert json_of(created) == {"report_type": "export_portouts_csv", "params": {"filters": {}}}
    done = telnyx_client.get_report("rep-1")
    assert fetched.called and done.is_completed and done.document_id == "doc-9"


# -- documents ---------------------------------------------------------------------


DOCUMENT = {
    "id": "6a09cdc3-8948-47f0-aa62-74ac943d6c58",
    "record_type": "document",
    "content_type": "application/pdf",
    "size": {"unit": "bytes", "amount": 123456},
    "status": "pending",
    "sha256": "08a96c641c3a74e44eb59afb61a24f2cb9f4d7188748e76ba4bb5edfa3cb7d1c",
    "filename": "loa.pdf",
    "customer_reference": "MY REF 001",
    "av_scan_status": "scanned",
    "created_at": "2018-02-02T22:25:27.521Z",
    "updated_at": "2018-02-02T22:25:27.521Z",
}


def test_upload_document_is_multipart(telnyx_client, telnyx_api):
    route = telnyx_api.post("/documents").respond(200, json={"data": DOCUMENT})

    document = telnyx_client.upload_document(
        filename="loa.pdf", content=b"%PDF-1.4 letter", content_type="application/pdf"
    )

    assert document == DocumentData(
        id=DOCUMENT["id"],
        filename="loa.pdf",
        content_type="application/pdf",
        size=123456,
        status="pending",
        av_scan_status="scanned",
        sha256=DOCUMENT["sha256"],
        created_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        updated_at=datetime(2018, 2, 2, 22, 25, 27, 521000, tzinfo=UTC),
        customer_reference="MY REF 001",
        record_type="document",
    )
    request = route.calls.last.request
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'name="file"; filename="loa.pdf"' in body
    assert b"Content-Type: application/pdf" in body
    assert b"%PDF-1.4 letter" in body
    assert b"customer_reference" not in body


def test_upload_document_sends_customer_reference(telnyx_client, telnyx_api):
    route = telnyx_api.post("/documents").respond(200, json={"data": DOCUMENT})
    telnyx_client.upload_document(
        filename="i.pdf", content=b"x", content_type="application/pdf", customer_reference="R-1"
    )
    assert b'name="customer_reference"\r\n\r\nR-1' in route.calls.last.request.content


def test_upload_refuses_more_than_20_mb_before_sending(telnyx_client, telnyx_api):
    route = telnyx_api.post("/documents").respond(200, json={"data": DOCUMENT})
    with pytest.raises(DocumentTooLargeError, match="at most 20 MB") as excinfo:
        telnyx_client.upload_document(
            filename="big.pdf",
            content=b"0" * (MAX_DOCUMENT_BYTES + 1),
            content_type="application/pdf",
        )
    assert isinstance(excinfo.value, ValueError)
    assert "big.pdf" in str(excinfo.value)
    assert not route.called
    # exactly at the limit is accepted
    telnyx_client.upload_document(
        filename="ok.pdf", content=b"0" * MAX_DOCUMENT_BYTES, content_type="application/pdf"
    )
    assert route.call_count == 1


def test_get_and_download_document(telnyx_client, telnyx_api):
    telnyx_api.get(f"/documents/{DOCUMENT['id']}").respond(200, json={"data": DOCUMENT})
    route = telnyx_api.get(f"/documents/{DOCUMENT['id']}/download").respond(
        200, content=b"id,status\n1,pending\n", headers={"content-type": "text/csv"}
    )
    assert telnyx_client.get_document(DOCUMENT["id"]).size == 123456
    assert telnyx_client.download_document(DOCUMENT["id"]) == b"id,status\n1,pending\n"
    assert route.calls.last.request.headers["accept"] == "application/octet-stream"


def test_stream_document_yields_chunks_and_closes(telnyx_client, telnyx_api):
    payload = bytes(range(256)) * 1000
    route = telnyx_api.get("/documents/doc-1/download").respond(
        200, content=payload, headers={"content-type": "application/octet-stream"}
    )
    with telnyx_client.stream_document("doc-1", chunk_size=4096) as chunks:
        received = list(chunks)
    assert b"".join(received) == payload
    assert len(received) > 1 and all(len(c) <= 4096 for c in received)
    assert route.calls.last.request.headers["accept"] == "application/octet-stream"
    assert route.calls.last.response.is_closed


# -- construction, get_client ------------------------------------------------------


def test_repr_hides_the_api_key():
    client = TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL)
    try:
        assert TEST_API_KEY not in repr(client) and TEST_API_KEY not in str(client)
        assert "api.telnyx.test" in repr(client)
    finally:
        client.close()


def test_get_client_reads_settings_and_caches(settings, fresh_telnyx_client, telnyx_api):
    settings.TELNYX_API_KEY = TEST_API_KEY
    settings.TELNYX_API_BASE_URL = TEST_BASE_URL
    settings.TELNYX_TIMEOUT = 4.5
    settings.TELNYX_MAX_RETRIES = 1

    client = get_client()
    assert get_client() is client
    assert (client.base_url, client.timeout, client.max_retries) == (TEST_BASE_URL, 4.5, 1)
    route = telnyx_api.get(f"/portouts/{PID}").respond(200, json={"data": portout_json()})
    client.get_portout(PID)
    assert route.calls.last.request.headers["authorization"] == f"Bearer {TEST_API_KEY}"

    settings.TELNYX_MAX_RETRIES = 2
    changed = get_client()
    assert changed is not client and changed.max_retries == 2

    get_client.cache_clear()
    assert client.is_closed and changed.is_closed
    again = get_client()
    assert again is not changed and not again.is_closed

    again.close()  # e.g. `with get_client() as c:` by mistake
    assert get_client() is not again


def test_get_client_reads_its_settings_and_an_empty_base_url_means_telnyx(
    settings, fresh_telnyx_client
):
    """The defaults live in portal/settings.py only; the client reads what is set."""
    settings.TELNYX_API_BASE_URL = ""
    settings.TELNYX_TIMEOUT = 7.5
    settings.TELNYX_MAX_RETRIES = 2
    client = get_client()
    assert (client.base_url, client.timeout, client.max_retries) == (
        "https://api.telnyx.com/v2",
        7.5,
        2,
    )
