"""Forms speak a person's language: errors under the fields' labels, reversed day ranges
refused on every form, one phone parser (list, search, Telnyx reports), area codes matched
at the start of the national number, and saved filters described in words."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from portouts import reports
from portouts.filters import PortOutEventFilter, PortOutFilter
from portouts.forms import TelnyxReportForm
from portouts.models import Report
from portouts.phones import parse_complete_numbers, parse_phone

LIST = reverse("portouts:list")


@pytest.fixture
def numbers(make_portout):
    """Numbers that hold 206 at the start, in the middle, and after another calling code."""
    make_portout(id="seattle", phone_numbers=["+12065550100"])
    make_portout(id="middle", phone_numbers=["+13122065555"])
    make_portout(id="london", phone_numbers=["+442071234567"])
    make_portout(id="maine", phone_numbers=["+12071234567"])


def listed(response) -> set[str]:
    return {p.id for p in response.context["page"].object_list}


# -- errors name the field's label -------------------------------------------------------


def test_list_errors_name_the_fields_label_not_its_name(viewer_client, db):
    response = viewer_client.get(LIST, {"o": "bogus", "per_page": "7", "status": "nope"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Sort by: Select a valid choice" in html
    assert "Rows per page: Select a valid choice" in html
    assert "Status: Select a valid choice" in html
    assert ">o<" not in html and "per_page</span>" not in html and "o: Select" not in html


def test_an_invalid_saved_export_names_the_fields_label(reviewer_client, db):
    with pytest.raises(reports.InvalidFilters) as caught:
        reports.filtered_portouts(
            {"o": ["bogus"], "inserted_at_gte": ["2026-02-01"], "inserted_at_lte": ["2026-01-01"]}
        )
    text = str(caught.value)
    assert "Sort by:" in text and "Created to:" in text
    assert "o:" not in text.replace("to:", "")


# -- reversed ranges ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "label"),
    [
        ("inserted_at_gte", "inserted_at_lte", "Created from"),
        ("ported_out_at_gte", "ported_out_at_lte", "Ported out from"),
    ],
)
def test_a_reversed_range_on_the_list_is_an_error_not_zero_rows(
    viewer_client, numbers, start, end, label
):
    response = viewer_client.get(LIST, {start: "2026-02-01", end: "2026-01-01"})
    html = response.content.decode()
    assert f"This day is before “{label}” (2026-02-01), so nothing would match." in html
    assert end in response.context["filter_errors"]
    if start == "inserted_at_gte":  # the start still applies: not a silent 0 rows
        assert listed(response)


def test_a_reversed_range_on_the_events_filter_is_an_error(viewer_client, db):
    events = PortOutEventFilter({"created_from": "2026-02-01", "created_to": "2026-01-01"})
    assert not events.is_valid()
    assert "before “From”" in str(events.errors["created_to"])
    html = viewer_client.get(
        reverse("portouts:events"), {"created_from": "2026-02-01", "created_to": "2026-01-01"}
    ).content.decode()
    assert "This day is before “From” (2026-02-01)" in html


def test_a_reversed_range_on_the_telnyx_form_is_an_error():
    form = TelnyxReportForm({"created_after": "2026-02-01", "created_before": "2026-01-01"})
    assert not form.is_valid()
    assert form.errors["created_before"] == [
        "This day is before “Created from” (2026-02-01), so nothing would match."
    ]


def test_a_range_of_one_day_is_fine():
    assert PortOutFilter(
        {"inserted_at_gte": "2026-01-01", "inserted_at_lte": "2026-01-01"}
    ).is_valid()
    assert TelnyxReportForm(
        {"created_after": "2026-01-01", "created_before": "2026-01-01"}
    ).is_valid()


# -- one phone parser --------------------------------------------------------------------


def test_the_telnyx_form_accepts_numbers_as_the_list_does():
    form = TelnyxReportForm(
        {
            "phone_numbers": "(206) 555-0100, +1 312 555 0101\n"
            "312.555.0102\n+13125550103 +442071234567"
        }
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["phone_numbers"] == [
        "+12065550100",
        "+13125550101",
        "+13125550102",
        "+13125550103",
        "+442071234567",
    ]
    assert parse_phone("(206) 555-0100").e164 == "+12065550100"


def test_the_telnyx_form_refuses_what_is_not_a_complete_number():
    form = TelnyxReportForm({"phone_numbers": "(206), 555-0100, +1 206 555"})
    assert not form.is_valid()
    assert "not (206), 555-0100, +1 206 555" in form.errors["phone_numbers"][0]
    with pytest.raises(ValidationError):
        parse_complete_numbers("call me")


def test_the_list_and_the_search_read_numbers_with_the_same_parser(viewer_client, numbers):
    for params in ({"phone_number": "(206) 555-0100"}, {"q": "(206) 555-0100"}):
        assert listed(viewer_client.get(LIST, params)) == {"seattle"}, params
    response = viewer_client.get(LIST, {"phone_number": "2x"})
    assert "Phone number: Enter at least 3 digits" in response.content.decode()


def test_an_area_code_matches_numbers_that_start_with_it(viewer_client, numbers):
    # "(206)": the national number starts with 206, not 206 anywhere (+1 312 206 5555).
    assert listed(viewer_client.get(LIST, {"phone_number": "(206)"})) == {"seattle"}
    assert listed(viewer_client.get(LIST, {"q": "(206)"})) == {"seattle"}
    # Whatever the country calling code: "(207)" is Maine's and London's.
    assert listed(viewer_client.get(LIST, {"phone_number": "(207)"})) == {"london", "maine"}
    # With a "+", the E.164 number starts with the digits; bare digits match anywhere.
    assert listed(viewer_client.get(LIST, {"phone_number": "+1 206"})) == {"seattle"}
    assert listed(viewer_client.get(LIST, {"phone_number": "206"})) == {"seattle", "middle"}


# -- saved filters in words --------------------------------------------------------------


def test_a_local_exports_filters_are_described_with_the_lists_labels():
    text = reports.describe_list_filters(
        {"status_in": ["pending", "rejected"], "o": ["end_user"], "phone_number": ["(206)"]}
    )
    assert text == "Statuses: pending, rejected · Phone number: (206) · sorted by end user"
    assert reports.describe_list_filters({"o": ["-created"]}) == "sorted by created (descending)"
    assert reports.describe_list_filters({}) == ""


def test_a_telnyx_reports_filters_are_described_with_the_forms_labels(settings):
    settings.TIME_ZONE = "UTC"
    filters = reports.telnyx_filters(
        statuses=["pending", "rejected-pending"],
        created_after=date(2026, 11, 1),
        created_before=date(2026, 11, 30),
        phone_numbers=["+12065550100"],
    )
    assert reports.describe_telnyx_filters(filters) == (
        "Statuses: pending, rejection pending · Created from: 2026-11-01 · "
        "Created to: 2026-11-30 · Phone numbers: +12065550100"
    )


def test_the_reports_page_shows_filters_in_words(viewer_client, viewer):
    Report.objects.create(
        kind=Report.Kind.LOCAL,
        status=Report.Status.COMPLETED,
        filters={"status_in": ["pending", "rejected"], "o": ["end_user"]},
        requested_by=viewer,
    )
    Report.objects.create(
        kind=Report.Kind.TELNYX, status=Report.Status.RUNNING, filters={"status__in": ["pending"]}
    )
    html = viewer_client.get(reverse("portouts:reports")).content.decode()
    assert "Statuses: pending, rejected · sorted by end user" in html
    assert "status__in" not in html and "o = end_user" not in html and "status_in" not in html


def test_the_telnyx_panel_reloads_when_a_telnyx_report_changes_state(viewer_client, telnyx_mock):
    telnyx_mock.get("/portouts/reports").respond(200, json={"data": [], "meta": {}})
    report = Report.objects.create(
        kind=Report.Kind.TELNYX, status=Report.Status.RUNNING, telnyx_report_id="rep-1"
    )
    page = viewer_client.get(reverse("portouts:reports"))
    seen = page.context["telnyx_state"]
    poll = {"HX-Request": "true"}
    unchanged = viewer_client.get(reverse("portouts:reports"), {"seen": seen}, headers=poll)
    assert "HX-Trigger" not in unchanged
    Report.objects.filter(pk=report.pk).update(status=Report.Status.COMPLETED)
    changed = viewer_client.get(reverse("portouts:reports"), {"seen": seen}, headers=poll)
    assert changed["HX-Trigger"] == "telnyx-reports-stale"
    assert changed.status_code == 286  # nothing left to follow: polling stops, panel reloads
    panel = viewer_client.get(reverse("portouts:telnyx_reports")).content.decode()
    assert 'hx-trigger="telnyx-reports-stale from:body"' in panel
