"""The port-out list: filters, free-text search, sorting, pages, htmx fragments, polling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portouts.models import PortOut
from tests.fixtures_dashboard import bulk_portouts

URL = "/portouts/"


@pytest.fixture(autouse=True)
def _fast(fast_passwords):
    pass


def ids(response) -> set[str]:
    return {p.id for p in response.context["page"].object_list}


@pytest.fixture
def three(make_portout):
    a = make_portout(
        id="po-a",
        phone_numbers=["+13125550100", "+13125550101"],
        end_user_name="Acme Dental",
        carrier_name="Verizon Wireless",
        spid="6006",
        pon="PON-ALPHA",
        support_key="PO_111111",
        status="pending",
        country_code="US",
        foc_date=datetime(2026, 12, 3, tzinfo=UTC),
        inserted_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
        created_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
    )
    b = make_portout(
        id="po-b",
        phone_numbers=["+14165550199"],
        end_user_name="Maple Bakery",
        carrier_name="Bell Canada",
        spid="7007",
        pon="PON-BETA",
        support_key="PO_222222",
        status="ported",
        country_code="CA",
        foc_date=datetime(2026, 12, 5, tzinfo=UTC),
        inserted_at=datetime(2026, 11, 5, 10, tzinfo=UTC),
        created_at=datetime(2026, 11, 5, 10, tzinfo=UTC),
        ported_out_at=datetime(2026, 11, 20, 8, tzinfo=UTC),
    )
    c = make_portout(
        id="po-c",
        phone_numbers=["+442071234567"],
        end_user_name="Thames Florists",
        carrier_name="Vodafone",
        spid="8008",
        pon="PON-GAMMA",
        support_key="PO_333333",
        status="rejected",
        country_code="GB",
        foc_date=datetime(2026, 12, 9, tzinfo=UTC),
        inserted_at=datetime(2026, 11, 9, 10, tzinfo=UTC),
        created_at=datetime(2026, 11, 9, 10, tzinfo=UTC),
    )
    return a, b, c


def test_signed_out_users_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_list_shows_triage_columns(viewer_client, three):
    response = viewer_client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert ids(response) == {"po-a", "po-b", "po-c"}
    assert 'class="badge tone-warn"' in html
    assert "+13125550100" in html and "+1" in html  # first number and "+1" more
    assert "Acme Dental" in html and "Verizon Wireless" in html and "SPID 6006" in html
    assert "PON-ALPHA" in html and "PO_111111" in html
    assert "2026-12-03" in html  # FOC shown as a date
    assert reverse("portouts:detail", args=["po-a"]) in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"po-a"}),
        ("status_in=pending&status_in=ported", {"po-a", "po-b"}),
        ("carrier_name=bell", {"po-b"}),
        ("spid=7007", {"po-b"}),
        ("pon=gamma", {"po-c"}),
        ("phone_number=(312) 555-0100", {"po-a"}),
        ("phone_number=312.555.0101", {"po-a"}),
        ("phone_number=%2B1 312 555 0100", {"po-a"}),
        ("phone_number=555-0199", {"po-b"}),
        ("support_key=PO_2222", {"po-b"}),
        ("country_code=gb", {"po-c"}),
        ("country_code_in=US, CA", {"po-a", "po-b"}),
        ("foc_date=2026-12-05", {"po-b"}),
        ("inserted_at_gte=2026-11-05", {"po-b", "po-c"}),
        ("inserted_at_lte=2026-11-05", {"po-a", "po-b"}),
        ("inserted_at_gte=2026-11-02&inserted_at_lte=2026-11-08", {"po-b"}),
        ("ported_out_at_gte=2026-11-20&ported_out_at_lte=2026-11-20", {"po-b"}),
        ("q=maple", {"po-b"}),
        ("q=(207) 123-4567", {"po-c"}),
        ("q=PON-ALPHA", {"po-a"}),
        ("q=PO_3333", {"po-c"}),
    ],
)
def test_each_filter(viewer_client, three, query, expected):
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert not response.context["filter_errors"]
    assert ids(response) == expected


def test_sorting_and_toggle_links(viewer_client, three):
    response = viewer_client.get(f"{URL}?o=foc")
    assert [p.id for p in response.context["page"].object_list] == ["po-a", "po-b", "po-c"]
    foc = next(c for c in response.context["columns"] if c["key"] == "foc")
    assert foc == {
        "key": "foc",
        "label": "FOC",
        "o": "-foc",
        "dir": "ascending",
        "narrow_hidden": False,
    }
    response = viewer_client.get(f"{URL}?o=-foc")
    assert [p.id for p in response.context["page"].object_list] == ["po-c", "po-b", "po-a"]
    response = viewer_client.get(f"{URL}?o=end_user")
    assert [p.end_user_name for p in response.context["page"].object_list] == [
        "Acme Dental",
        "Maple Bakery",
        "Thames Florists",
    ]


def test_pages_and_page_size(viewer_client, make_portout):
    for _ in range(30):
        make_portout()
    response = viewer_client.get(f"{URL}?per_page=25&page=2")
    assert len(response.context["page"].object_list) == 5
    assert response.context["paginator"].num_pages == 2
    html = response.content.decode()
    assert "per_page=25&amp;page=1" in html  # links keep the other parameters
    response = viewer_client.get(URL)
    assert len(response.context["page"].object_list) == 30  # default 50 per page


@pytest.mark.parametrize(
    ("query", "field", "expected"),
    [
        ("phone_number=call-me", "phone_number", {"po-a", "po-b", "po-c"}),
        ("foc_date=someday&status=pending", "foc_date", {"po-a"}),
        ("status=exploded", "status", {"po-a", "po-b", "po-c"}),
        ("country_code_in=USA&carrier_name=bell", "country_code_in", {"po-b"}),
        ("o=password", "o", {"po-a", "po-b", "po-c"}),
        ("per_page=7", "per_page", {"po-a", "po-b", "po-c"}),
        ("inserted_at_gte=2026-13-45", "inserted_at_gte", {"po-a", "po-b", "po-c"}),
    ],
)
def test_malformed_filters_show_an_error_and_keep_the_list(
    viewer_client, three, query, field, expected
):
    response = viewer_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert field in response.context["filter_errors"]
    assert "Some filters were not applied" in response.content.decode()
    assert ids(response) == expected  # the valid filters still apply


def test_bad_page_number_shows_a_page(viewer_client, db):
    bulk_portouts(30)  # two pages of 25
    not_a_number = viewer_client.get(f"{URL}?page=abc&per_page=25")
    assert not_a_number.status_code == 200
    assert not_a_number.context["page"].number == 1
    assert "page 1 of 2" in not_a_number.content.decode()
    past_the_end = viewer_client.get(f"{URL}?page=999&per_page=25")
    assert past_the_end.status_code == 200
    assert past_the_end.context["page"].number == 2  # the last page
    assert len(past_the_end.context["page"].object_list) == 5


def test_htmx_request_gets_only_the_results(viewer_client, three):
    response = viewer_client.get(f"{URL}?status=pending", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="results"' in html
    assert 'id="filter-errors" hx-swap-oob="true"' in html
    assert ids(response) == {"po-a"}
    response = viewer_client.get(f"{URL}?phone_number=zzz", headers={"HX-Request": "true"})
    assert "Some filters were not applied" in response.content.decode()


def test_page_works_without_javascript(viewer_client, three):
    html = viewer_client.get(URL).content.decode()
    assert '<form id="filters"' in html and 'method="get"' in html
    assert 'action="/portouts/"' in html
    assert 'hx-push-url="true"' in html


def test_polling_answers_204_until_the_cache_changes(viewer_client, three):
    first = viewer_client.get(URL)
    version = first.context["version"]
    headers = {"HX-Request": "true", "X-Cache-Version": version}
    assert viewer_client.get(URL, headers=headers).status_code == 204
    PortOut.objects.filter(id="po-a").update(synced_at=timezone.now() + timedelta(seconds=5))
    changed = viewer_client.get(URL, headers=headers)
    assert changed.status_code == 200
    assert changed.context["version"] != version


def test_list_times_name_their_zone_and_poll_headers_are_escaped(viewer_client, three, settings):
    settings.TIME_ZONE = "America/Chicago"
    response = viewer_client.get(URL)
    html = response.content.decode()
    assert ">2026-11-01 04:00 CST</time>" in html  # po-a, created 10:00 UTC
    version = response.context["version"]
    assert f'hx-headers="{{&quot;X-Cache-Version&quot;: &quot;{version}&quot;}}"' in html


def test_export_button_for_report_requesters_only(viewer_client, reviewer_client, three):
    html = reviewer_client.get(f"{URL}?status=pending&page=1").content.decode()
    assert 'action="/reports/new"' in html
    assert 'name="query" value="status=pending"' in html
    assert "Export CSV" not in viewer_client.get(URL).content.decode()


@pytest.mark.parametrize("per_page", [25, 250])
def test_list_runs_a_fixed_number_of_queries(
    reviewer_client, make_portout, django_assert_num_queries, per_page
):
    bulk_portouts(260)
    reviewer_client.get(URL)  # warm the session and permission caches
    # session, user, sync footer (1: no failed run), cache version (1), count, page, and for
    # alerts the unread count, the claims and the escalations (one each, whatever the rows);
    # the permissions are kept in the cache
    with django_assert_num_queries(9):
        response = reviewer_client.get(f"{URL}?per_page={per_page}&o=-foc&status=pending")
    assert len(response.context["page"].object_list) == per_page


def test_the_cached_count_follows_changes_to_the_cache(viewer_client, three, make_portout):
    """The paginator caches the count per filter; a new synced row gives a fresh count."""
    url = reverse("portouts:list") + "?status=pending"
    first = viewer_client.get(url).context["page"].paginator.count
    make_portout(id="po-new", status="pending", synced_at=datetime(2030, 1, 1, tzinfo=UTC))
    second = viewer_client.get(url).context["page"].paginator.count
    assert second == first + 1


def test_cells_from_telnyx_are_escaped(viewer_client, make_portout):
    """The rows' cells are escaped by the selector, not by the template: still escaped."""
    now = timezone.now()
    hostile = {"end_user_name": '<b onclick="x()">Acme</b>', "carrier_name": "A&B <i>"}
    make_portout(id="po-x", created_at=now - timedelta(hours=2), **hostile)
    for url in ("/", "/portouts/"):
        html = viewer_client.get(url).content.decode()
        assert "&lt;b onclick=&quot;x()&quot;&gt;Acme&lt;/b&gt;" in html
        assert "A&amp;B &lt;i&gt;" in html
        assert "<b onclick" not in html and "<i>" not in html
