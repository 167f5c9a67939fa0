"""Telnyx client: error classes, retries with mocked time, and keeping the API key secret."""

from __future__ import annotations

import email.utils
import logging
import random
from datetime import UTC, datetime

import httpx
import pytest
import time_machine

from portouts.telnyx import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    TelnyxClient,
    UnprocessableEntityError,
    failure_sentence,
)
from portouts.telnyx import retry as retry_module
from tests.fixtures_client import TEST_API_KEY, TEST_BASE_URL, page_json, portout_json

PID = "0ccc7b54-4df3-4bca-a65a-3da1ecc777f0"

TELNYX_ERROR = {
    "errors": [
        {
            "code": "10015",
            "title": "Invalid status transition",
            "detail": "Port-out is not pending.",
            "source": {"pointer": "/status"},
            "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10015"},
        }
    ]
}


class HighestRandom(random.Random):
    """Full jitter always picks the top of the window, so waits are predictable."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.fixture
def client0():
    """A client that never retries, so one response maps to one error."""
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL, max_retries=0) as client:
        yield client


def ok_portout() -> httpx.Response:
    return httpx.Response(200, json={"data": portout_json()})


# -- error classes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (418, APIStatusError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (503, InternalServerError),
    ],
)
def test_each_status_raises_its_error_class(client0, telnyx_api, status, cls):
    telnyx_api.get(f"/portouts/{PID}").respond(
        status, json=TELNYX_ERROR, headers={"x-request-id": "req-42"}
    )
    with pytest.raises(cls) as excinfo:
        client0.get_portout(PID)
    err = excinfo.value
    assert type(err) is cls
    assert isinstance(err, APIStatusError) and isinstance(err, APIError)
    assert err.status_code == status
    assert err.errors == [
        {
            "code": "10015",
            "title": "Invalid status transition",
            "detail": "Port-out is not pending.",
            "source": {"pointer": "/status"},
            "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10015"},
        }
    ]
    assert err.codes == ["10015"]
    assert err.headers["x-request-id"] == "req-42" and err.request_id == "req-42"
    assert err.retryable is (status in (409, 429) or status >= 500)
    message = str(err)
    assert f"({status} on GET /portouts/{PID})" in message
    assert (
        "Invalid status transition: Port-out is not pending. (field /status) [code 10015]"
        in message
    )
    assert "request id req-42" in message


def test_422_message_reads_as_a_sentence(client0, telnyx_api):
    telnyx_api.patch(f"/portouts/{PID}/authorized").respond(
        422, json={"errors": [{"code": 10015, "detail": "Port-out is not pending."}]}
    )
    with pytest.raises(UnprocessableEntityError) as excinfo:
        client0.update_portout_status(PID, status="authorized", reason="ok")
    assert str(excinfo.value) == (
        f"Telnyx rejected the request (422 on PATCH /portouts/{PID}/authorized): "
        "Port-out is not pending. [code 10015]"
    )
    assert excinfo.value.errors[0]["code"] == "10015"


def test_401_message_tells_what_to_check(client0, telnyx_api):
    telnyx_api.get("/portouts").respond(
        401, json={"errors": [{"code": "10009", "title": "Authentication failed"}]}
    )
    with pytest.raises(AuthenticationError, match="Check TELNYX_API_KEY"):
        client0.list_portouts_page()


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (
            RateLimitError(status_code=429, headers={"x-request-id": "req-1"}),
            "Telnyx is receiving too many requests from this account (429) (Telnyx request id "
            "req-1); wait a minute, then try again.",
        ),
        (
            InternalServerError(status_code=503),
            "Telnyx had a server error (503); try again in a few minutes.",
        ),
        (
            UnprocessableEntityError(status_code=422, errors=[{"detail": "It moved on."}]),
            "Telnyx refused the request (422): It moved on.",
        ),
        (
            NotFoundError(status_code=404, method="GET", path="/documents/d1"),
            "Telnyx could not find this document (404); it may have been removed.",
        ),
        (
            NotFoundError(status_code=404, path="/portouts/events/e1/republish"),
            "Telnyx could not find this event (404); it may have been removed.",
        ),
        (APITimeoutError("slow"), "Telnyx did not answer in time."),
        (APIConnectionError("reset"), "The connection to Telnyx broke before it answered."),
        (ValueError("anything else"), "Telnyx could not be asked; try again shortly."),
    ],
)
def test_each_failure_reads_as_one_sentence(error, sentence):
    """What a person reads comes from the error class, the same on every page."""
    assert failure_sentence(error) == sentence
    assert TEST_API_KEY not in failure_sentence(error)


def test_a_connection_never_opened_says_nothing_was_sent():
    error = APIConnectionError("refused")
    error.not_sent = True
    assert failure_sentence(error) == (
        "The dashboard could not reach Telnyx. Nothing was sent; try again shortly."
    )


def test_error_without_json_body_quotes_the_text(client0, telnyx_api):
    telnyx_api.get(f"/portouts/{PID}").respond(
        502, text="<html>Bad   gateway</html>", headers={"content-type": "text/html"}
    )
    with pytest.raises(InternalServerError) as excinfo:
        client0.get_portout(PID)
    assert excinfo.value.errors == []
    assert "<html>Bad gateway</html>" in str(excinfo.value)


def test_success_with_a_non_json_body_is_an_api_error(client0, telnyx_api):
    telnyx_api.get(f"/portouts/{PID}").respond(200, text="<html>captive portal</html>")
    with pytest.raises(APIError, match="not JSON"):
        client0.get_portout(PID)


# -- retries -----------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_get_is_retried_on_transient_statuses(telnyx_client, telnyx_api, telnyx_sleeps, status):
    route = telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[httpx.Response(status, json=TELNYX_ERROR), ok_portout()]
    )
    assert telnyx_client.get_portout(PID).id == PID
    assert route.call_count == 2
    assert len(telnyx_sleeps) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_not_retried(telnyx_client, telnyx_api, telnyx_sleeps, status):
    route = telnyx_api.get(f"/portouts/{PID}").respond(status, json=TELNYX_ERROR)
    with pytest.raises(APIStatusError):
        telnyx_client.get_portout(PID)
    assert route.call_count == 1 and telnyx_sleeps == []


def test_error_flagged_retryable_by_telnyx_is_retried(telnyx_client, telnyx_api, telnyx_sleeps):
    body = {
        "errors": [{"code": "10038", "title": "Service unavailable", "meta": {"retryable": True}}]
    }
    route = telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[httpx.Response(422, json=body), ok_portout()]
    )
    telnyx_client.get_portout(PID)
    assert route.call_count == 2


def test_retries_are_bounded_and_back_off_exponentially(telnyx_api):
    sleeps: list[float] = []
    policy = RetryPolicy(max_retries=4, base_delay=0.5, max_delay=3.0, rng=HighestRandom())
    route = telnyx_api.get("/portouts").respond(500, json=TELNYX_ERROR)
    with (
        TelnyxClient(
            TEST_API_KEY, base_url=TEST_BASE_URL, retry_policy=policy, sleep=sleeps.append
        ) as client,
        pytest.raises(InternalServerError),
    ):
        list(client.list_portouts())
    assert route.call_count == 5
    assert sleeps == [0.5, 1.0, 2.0, 3.0]


def test_full_jitter_stays_within_the_window():
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0, rng=random.Random(7))
    delays = [policy.delay(n) for n in range(6) for _ in range(50)]
    assert all(0 <= d <= 8.0 for d in delays)
    assert min(delays[:50]) < 1.0 and max(delays[:50]) <= 1.0
    assert len({round(d, 6) for d in delays}) > 100  # really random, not a constant


def test_retry_after_seconds_is_honoured(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[
            httpx.Response(429, json=TELNYX_ERROR, headers={"Retry-After": "7"}),
            ok_portout(),
        ]
    )
    telnyx_client.get_portout(PID)
    assert telnyx_sleeps == [7.0]
    assert route.call_count == 2


def test_retry_after_http_date_is_honoured(telnyx_client, telnyx_api, telnyx_sleeps):
    now = datetime(2025, 5, 1, 12, 0, 0, tzinfo=UTC)
    later = email.utils.format_datetime(datetime(2025, 5, 1, 12, 0, 12, tzinfo=UTC), usegmt=True)
    telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[
            httpx.Response(503, json=TELNYX_ERROR, headers={"Retry-After": later}),
            ok_portout(),
        ]
    )
    with time_machine.travel(now, tick=False):
        telnyx_client.get_portout(PID)
    assert telnyx_sleeps == [12.0]


def test_retry_after_is_capped(telnyx_client, telnyx_api, telnyx_sleeps):
    telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[
            httpx.Response(429, json=TELNYX_ERROR, headers={"Retry-After": "3600"}),
            ok_portout(),
        ]
    )
    telnyx_client.get_portout(PID)
    assert telnyx_sleeps == [30.0]


def test_retry_after_ms_and_garbage():
    assert retry_module.parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_module.parse_retry_after({"Retry-After": "soon"}) is None
    assert retry_module.parse_retry_after({}) is None
    past = "Wed, 21 Oct 2015 07:28:00 GMT"
    assert retry_module.parse_retry_after({"Retry-After": past}) == 0.0


def test_default_sleep_is_patchable(telnyx_api, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(retry_module, "sleep", slept.append)
    telnyx_api.get(f"/portouts/{PID}").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": "1"}), ok_portout()]
    )
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL) as client:
        client.get_portout(PID)
    assert slept == [1.0]


def test_patch_status_and_republish_are_retried(telnyx_client, telnyx_api, telnyx_sleeps):
    patch = telnyx_api.patch(f"/portouts/{PID}/authorized").mock(
        side_effect=[httpx.Response(502), ok_portout()]
    )
    republish = telnyx_api.post("/portouts/events/ev-1/republish").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(204)]
    )
    telnyx_client.update_portout_status(PID, status="authorized", reason="ok")
    telnyx_client.republish_event("ev-1")
    assert patch.call_count == 2 and republish.call_count == 2
    assert len(telnyx_sleeps) == 2


def test_comment_post_is_not_retried_on_500(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.post(f"/portouts/{PID}/comments").respond(500, json=TELNYX_ERROR)
    with pytest.raises(InternalServerError):
        telnyx_client.create_comment(PID, body="hello")
    assert route.call_count == 1 and telnyx_sleeps == []


@pytest.mark.parametrize(
    ("method", "path", "call"),
    [
        (
            "POST",
            f"/portouts/{PID}/supporting_documents",
            lambda c: c.create_supporting_documents(PID, documents=[("loa", "d1")]),
        ),
        (
            "POST",
            "/documents",
            lambda c: c.upload_document(
                filename="a.pdf", content=b"x", content_type="application/pdf"
            ),
        ),
        ("POST", "/portouts/reports", lambda c: c.create_report(filters={})),
    ],
)
def test_other_creating_posts_are_not_retried_once_sent(
    telnyx_client, telnyx_api, telnyx_sleeps, method, path, call
):
    route = telnyx_api.route(method=method, path=path).mock(
        side_effect=[httpx.Response(503), httpx.ReadTimeout("slow")]
    )
    with pytest.raises(InternalServerError):
        call(telnyx_client)
    with pytest.raises(APITimeoutError, match="may have reached Telnyx"):
        call(telnyx_client)
    assert route.call_count == 2 and telnyx_sleeps == []


def test_comment_post_is_retried_when_the_connection_never_opened(
    telnyx_client, telnyx_api, telnyx_sleeps
):
    comment = {"id": "c1", "body": "hello", "portout_id": PID}
    route = telnyx_api.post(f"/portouts/{PID}/comments").mock(
        side_effect=[
            httpx.ConnectError("refused"),
            httpx.ConnectTimeout("no SYN-ACK"),
            httpx.Response(201, json={"data": comment}),
        ]
    )
    assert telnyx_client.create_comment(PID, body="hello").id == "c1"
    assert route.call_count == 3 and len(telnyx_sleeps) == 2


def test_comment_post_is_not_retried_after_a_read_timeout(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.post(f"/portouts/{PID}/comments").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(APITimeoutError) as excinfo:
        telnyx_client.create_comment(PID, body="hello")
    assert route.call_count == 1 and telnyx_sleeps == []
    assert "check before sending it again" in str(excinfo.value)


def test_timeouts_become_api_timeout_error_after_retries(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.get("/portouts").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(APITimeoutError) as excinfo:
        telnyx_client.list_portouts_page()
    assert isinstance(excinfo.value, APIConnectionError)
    assert route.call_count == 4 and len(telnyx_sleeps) == 3
    assert "did not answer GET /portouts within 10 s (4 attempts)" in str(excinfo.value)
    assert excinfo.value.retryable


def test_connection_errors_become_api_connection_error(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.get("/portouts").mock(side_effect=httpx.ConnectError("Connection refused"))
    with pytest.raises(APIConnectionError) as excinfo:
        telnyx_client.list_portouts_page()
    assert not isinstance(excinfo.value, APITimeoutError)
    assert route.call_count == 4
    assert "Connection refused" in str(excinfo.value)
    assert "TELNYX_API_BASE_URL" in str(excinfo.value)


def test_every_request_has_a_timeout(telnyx_api):
    route = telnyx_api.get(f"/portouts/{PID}").mock(return_value=ok_portout())
    with TelnyxClient(TEST_API_KEY, base_url=TEST_BASE_URL, timeout=2.5) as client:
        client.get_portout(PID)
    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}


def test_stream_download_retries_opening_then_streams(telnyx_client, telnyx_api, telnyx_sleeps):
    route = telnyx_api.get("/documents/doc-1/download").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, content=b"abc")]
    )
    with telnyx_client.stream_document("doc-1") as chunks:
        assert b"".join(chunks) == b"abc"
    assert route.call_count == 2 and len(telnyx_sleeps) == 1


def test_stream_download_error_status_raises_before_yielding(telnyx_client, telnyx_api):
    telnyx_api.get("/documents/nope/download").respond(404, json=TELNYX_ERROR)
    with pytest.raises(NotFoundError), telnyx_client.stream_document("nope"):
        pytest.fail("must not be reached")


# -- the API key stays secret ---------------------------------------------------------


def test_api_key_never_in_errors_reprs_or_logs(caplog, telnyx_client, telnyx_api):
    caplog.set_level(logging.DEBUG)
    telnyx_api.get("/portouts").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json=page_json([portout_json()], page=1, total_pages=1)),
        ]
    )
    # a server that echoes the key back must not get it into our messages
    telnyx_api.get(f"/portouts/{PID}").respond(
        401, json={"errors": [{"code": "10009", "detail": f"Bad token {TEST_API_KEY}"}]}
    )
    telnyx_api.get("/portouts/timeout").mock(side_effect=httpx.ReadTimeout(f"t {TEST_API_KEY}"))
    telnyx_api.get("/portouts/plain").respond(500, text=f"oops {TEST_API_KEY}")
    telnyx_api.post(f"/portouts/{PID}/comments").mock(side_effect=httpx.ConnectError("down"))

    list(telnyx_client.list_portouts())
    errors: list[Exception] = []
    for call in (
        lambda: telnyx_client.get_portout(PID),
        lambda: telnyx_client.get_portout("timeout"),
        lambda: telnyx_client.get_portout("plain"),
        lambda: telnyx_client.create_comment(PID, body="x"),
    ):
        with pytest.raises(APIError) as excinfo:
            call()
        errors.append(excinfo.value)

    assert [type(e) for e in errors] == [
        AuthenticationError,
        APITimeoutError,
        InternalServerError,
        APIConnectionError,
    ]
    for err in errors:
        assert TEST_API_KEY not in str(err)
        assert TEST_API_KEY not in repr(err)
        assert TEST_API_KEY not in repr(getattr(err, "errors", ""))
    assert "Bad token [redacted]" in str(errors[0])
    assert TEST_API_KEY not in repr(telnyx_client)
    assert TEST_API_KEY not in caplog.text
    assert "authorization" not in caplog.text.lower()
    ours = [r.getMessage() for r in caplog.records if r.name == "portouts.telnyx"]
    assert "Telnyx GET /portouts -> 503 (attempt 1 of 4)" in ours
    assert "Telnyx GET /portouts -> 200 (attempt 2 of 4)" in ours
    assert f"Telnyx GET /portouts/{PID} -> 401 (attempt 1 of 4)" in ours
    assert all(r.levelno == logging.DEBUG for r in caplog.records if "->" in r.getMessage())
