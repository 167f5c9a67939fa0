"""The metrics page on a small hand-built data set with known answers; its CSV tables, its
query count, bad periods, roles, and the weekly summary over a real SMTP server."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import socket
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from portouts.metrics.periods import Period
from portouts.metrics.selectors import metrics_for
from portouts.metrics.tables import TABLE_NAMES, metrics_tables
from portouts.metrics.weekly import weekly_summary_send
from portouts.models import (
    PortOutFacts,
    PortOutOutcome,
    RejectionCode,
    RiskFlag,
    WeeklySummarySettings,
)
from portouts.risk.outcomes import portout_label
from tests.fixtures_dashboard import build_portout

pytestmark = pytest.mark.django_db

WEEK = Period(date(2026, 11, 2), date(2026, 11, 8))
QUERY = WEEK.query()


def at(day: int, month: int = 11, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime.combine(date(2026, month, day), time(hour)))


def fact(carrier: str = "Gaining Wireless", status: str = "pending", **fields: Any) -> PortOutFacts:
    po = build_portout(carrier_name=carrier, spid="123A", status=status)
    po.save()
    values: dict[str, Any] = {
        "computed_at": timezone.now(),
        "pending_at": at(1, 10),
        "carrier_name": carrier,
        "spid": "123A",
    }
    values.update(fields)
    return PortOutFacts.objects.create(portout=po, **values)


@pytest.fixture
def data(reviewer: Any, django_user_model: Any) -> dict[str, Any]:
    bob = django_user_model.objects.create_user(username="bob", first_name="Bob", last_name="Ng")
    fact(
        outcome="authorized",
        decided_via="dashboard",
        decided_by=reviewer,
        decided_at=at(2),
        decision_seconds=1800,
        pending_at=at(2, hour=11),
        foc_changes=2,
        first_alert_at=at(2, hour=11),
        alert_to_claim_seconds=600,
    )
    fact(
        outcome="rejected",
        decided_via="dashboard",
        decided_by=reviewer,
        decided_at=at(3),
        decision_seconds=7200,
        rejection="1002",
    )
    rejected = PortOutFacts.objects.get(rejection="1002").portout
    RejectionCode.objects.create(portout=rejected, code=1002, description="Invalid PIN")
    fact(
        outcome="authorized",
        decided_via="telnyx",
        decided_at=at(3, hour=14),
        decision_seconds=36000,
    )
    fact(outcome="timeout", decided_via="timeout", decided_at=at(4), carrier="Fast Port Inc")
    fact(outcome="canceled", decided_via="carrier", decided_at=at(5))
    fact(
        outcome="rejected",
        decided_via="dashboard",
        decided_by=bob,
        decided_at=at(5, hour=15),
        decision_seconds=10800,
        rejection="1001",
    )
    # The previous period: one timeout, one quick decision.
    fact(outcome="timeout", decided_via="timeout", decided_at=at(30, 10))
    fact(
        outcome="authorized",
        decided_via="dashboard",
        decided_by=bob,
        decided_at=at(30, 10),
        decision_seconds=600,
    )
    # A bounce-back in the period, still pending; and a decision after the period.
    fact(bounced_back_at=at(6), pending_at=at(6, hour=13), carrier="Fast Port Inc")
    fact(outcome="authorized", decided_via="dashboard", decided_at=at(9), decision_seconds=5)
    return {"bob": bob}


@pytest.fixture
def flagged(reviewer: Any) -> None:
    """Flags and labels with known answers for WEEK: the PIN flag preceded 2 frauds of 3
    labelled port-outs (one labelled after the week), the off-hours flag has no labels, and
    two fraud port-outs with the PIN flag became pending just outside the week."""

    def portout(pending_at: datetime, kinds: list[str], label: str = "", on: Any = None) -> None:
        facts = fact(
            status="authorized", outcome="authorized", decided_via="timeout", pending_at=pending_at
        )
        for kind in kinds:
            RiskFlag.objects.create(
                portout=facts.portout,
                kind=kind,
                severity="high",
                sentence=kind,
                computed_at=pending_at,
            )
        if label:
            assert portout_label(user=reviewer, portout_id=facts.portout_id, label=label).ok
            PortOutOutcome.objects.filter(portout=facts.portout).update(labelled_at=on)

    portout(at(2), ["pin", "new_carrier"], "fraud", on=at(5))
    portout(at(4), ["pin"], "fraud", on=at(20))  # confirmed after the week: it counts
    portout(at(6), ["pin"], "legitimate", on=at(7))
    portout(at(7), ["pin"])
    portout(at(3), ["off_hours"])
    portout(at(8, hour=23), ["off_hours"])
    # Near misses: pending the evening before the week and the midnight after it, both
    # labelled fraud inside the week.
    portout(at(1, hour=23), ["pin"], "fraud", on=at(3))
    portout(at(9, hour=0), ["pin"], "fraud", on=at(8))
    portout(at(5), [], "fraud", on=at(6))  # no flag: in no row


def test_outcomes_by_risk_flag(flagged: Any) -> None:
    m = metrics_for(WEEK)
    assert [(r.label, r.flagged, r.fraud, r.labelled, r.fraud_share) for r in m.flags] == [
        ("Wrong or missing PIN", 4, 2, 3, pytest.approx(2 / 3)),
        ("New gaining carrier", 1, 1, 1, 1.0),
        ("Outside business hours", 2, 0, 0, None),
    ]
    table = metrics_tables(m)["flags"]
    assert table.header == (
        "Risk flag",
        "Port-outs flagged",
        "Fraud attempt",
        "Legitimate",
        "Customer error",
        "Unknown",
        "Not labelled yet",
        "Turned out fraud (of those labelled)",
    )
    assert table.rows == [
        ("Wrong or missing PIN", "4", "2", "1", "0", "0", "1", "67 % (2 of 3)"),
        ("New gaining carrier", "1", "1", "0", "0", "0", "0", "100 % (1 of 1)"),
        ("Outside business hours", "2", "0", "0", "0", "0", "2", "–"),
    ]
    assert metrics_for(WEEK.previous()).flags[0].flagged == 1  # the evening before


def test_relabelling_moves_the_flags_table(reviewer: Any, flagged: Any) -> None:
    """The table counts the facts' copy of the label: the labelling keeps it current."""
    legitimate = PortOutOutcome.objects.get(label="legitimate").portout_id
    assert portout_label(user=reviewer, portout_id=legitimate, label="fraud").ok
    pin = metrics_for(WEEK).flags[0]
    assert (pin.label, pin.fraud, pin.labelled) == ("Wrong or missing PIN", 3, 3)
    assert portout_label(user=reviewer, portout_id=legitimate, label="customer_error").ok
    pin = metrics_for(WEEK).flags[0]
    assert (pin.fraud, pin.outcomes["customer_error"], pin.labelled) == (2, 1, 3)


def test_outcomes_by_risk_flag_on_the_page(viewer_client: Any, flagged: Any) -> None:
    html = viewer_client.get(reverse("portouts:metrics") + "?" + QUERY).content.decode()
    assert 'id="flags-title">Outcomes by risk flag</h2>' in html
    assert "67 % (2 of 3)" in html
    assert (
        'alt="Stacked bar chart of port-outs by risk flag and outcome: Wrong or missing PIN 4 '
        "(fraud attempt 2, legitimate 1, customer error 0, unknown 0, not labelled yet 1);"
    ) in html


def test_headline_figures_and_previous_period(data: Any) -> None:
    m = metrics_for(WEEK)
    assert (m.timeouts.value, m.timeouts.before) == (1, 1)
    assert (m.decided.value, m.decided.before) == (4, 1)
    assert m.median_seconds.value == pytest.approx(9000)  # 1800, 7200, 10800, 36000
    assert m.p90_seconds.value == pytest.approx(28440)  # 10800 + 0.7 x 25200
    assert m.median_seconds.before == pytest.approx(600)
    assert (m.rejections.value, m.rejections.before) == (2, 0)
    assert (m.bounced.value, m.foc_changes.value) == (1, 2)
    assert (m.alert_to_claim.value, m.alert_to_claim.before) == (600, None)


def test_distribution_days_reviewers_codes_and_carriers(data: Any) -> None:
    m = metrics_for(WEEK)
    assert [(r.label, r.count) for r in m.distribution] == [
        ("Under 1 h", 1),
        ("1–2 h", 0),
        ("2–4 h", 2),
        ("4–8 h", 0),
        ("8–12 h", 1),
        ("12–24 h", 0),
        ("24 h or more", 0),
    ]
    days = {d.day.day: d for d in m.days}
    assert len(m.days) == 7
    assert (days[2].authorized, days[3].authorized, days[3].rejected) == (1, 1, 1)
    assert (days[4].timeout, days[5].canceled, days[5].rejected, days[6].bounced) == (1, 1, 1, 1)
    assert days[7].authorized + days[7].rejected + days[7].timeout == 0
    assert [(r.reviewer, r.decisions, r.median_seconds, r.rejections) for r in m.reviewers] == [
        ("rita", 2, pytest.approx(4500), 1),
        ("Bob Ng", 1, pytest.approx(10800), 1),
    ]
    assert [(r.label, r.count) for r in m.codes] == [("1001", 1), ("1002: Invalid PIN", 1)]
    assert [(r.label, r.count) for r in m.carriers] == [
        ("Fast Port Inc (SPID 123A)", 1),
        ("Gaining Wireless (SPID 123A)", 1),
    ]


def test_page_shows_figures_charts_and_tables(viewer_client: Any, data: Any) -> None:
    response = viewer_client.get(reverse("portouts:metrics") + "?" + QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Authorized by timeout" in html and "2 h 30 min" in html  # the median, 9000 s
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert 'alt="Stacked bar chart of decisions in each of 7 days' in html
    assert reverse("portouts:metrics_timeouts") in html
    assert "Weekly summary e-mail" not in html  # viewers do not see the settings


def test_query_count_is_the_same_whatever_the_period(
    viewer_client: Any, data: Any, flagged: Any, django_assert_max_num_queries: Any
) -> None:
    url = reverse("portouts:metrics")
    viewer_client.get(url + "?" + QUERY)  # warm the session and permission caches
    counts = []
    for query in (QUERY, "last=90", "start=2025-01-01&end=2026-11-30"):
        # 8 for the metrics (portouts/metrics/selectors.py), 7 for the session, the
        # permissions and the page's header and footer
        with django_assert_max_num_queries(15) as captured:
            assert viewer_client.get(f"{url}?{query}").status_code == 200
        counts.append(len(captured))
    assert len(set(counts)) == 1, counts


@pytest.mark.parametrize(
    ("end", "unit", "count", "first"),
    [
        (date(2026, 11, 30), "day", 29, "2026-11-02"),
        (date(2027, 2, 28), "week", 17, "2026-11-02"),
        (date(2027, 6, 30), "month", 8, "2026-11"),
    ],
)
def test_decisions_are_counted_per_day_week_or_month(
    data: Any, end: date, unit: str, count: int, first: str
) -> None:
    m = metrics_for(Period(date(2026, 11, 2), end))
    table = metrics_tables(m)["days"]
    assert (m.unit, len(table.rows), table.rows[0][0]) == (unit, count, first)
    assert sum(int(row[1]) for row in table.rows) == 3  # the authorizations from 2 Nov on
    assert table.title == f"Decisions per {unit}"


def test_csv_exports_equal_the_tables(viewer_client: Any, data: Any, flagged: Any) -> None:
    page = viewer_client.get(reverse("portouts:metrics") + "?" + QUERY)
    tables = page.context["tables"]
    assert tables == metrics_tables(metrics_for(WEEK))
    for name in TABLE_NAMES:
        response = viewer_client.get(reverse("portouts:metrics_export", args=[name]) + "?" + QUERY)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        body = b"".join(response.streaming_content).decode()
        rows = list(csv.reader(io.StringIO(body)))
        assert tables[name].rows, name  # every table has rows to compare
        assert rows == [list(tables[name].header)] + [list(r) for r in tables[name].rows], name
        for row in tables[name].rows:
            assert all(cell in page.content.decode() for cell in row[:1])


def test_unknown_table_is_a_404(viewer_client: Any) -> None:
    assert viewer_client.get("/metrics/secrets.csv").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-11-08&end=2026-11-02", "From must be on or before To."),
        ("start=9999-01-01&end=9999-01-02", "Dates must lie between"),
        ("start=1900-01-01&end=2026-01-02", "Dates must lie between"),
        ("start=2026-13-45&end=2026-11-02", "From: Enter a valid date."),
        ("start=2026-11-02", "Give both dates"),
        ("last=abc", "Period: Select a valid choice."),
        ("start=2024-01-01&end=2026-11-30", "A period is at most 731 days."),
    ],
)
def test_bad_periods_are_form_errors(viewer_client: Any, query: str, message: str) -> None:
    for name in ("metrics", "metrics_timeouts"):
        response = viewer_client.get(reverse(f"portouts:{name}") + "?" + query)
        assert response.status_code == 400
        assert message in response.content.decode()
    export = viewer_client.get(reverse("portouts:metrics_export", args=["days"]) + "?" + query)
    assert export.status_code == 400


def test_timeouts_are_one_click_away(viewer_client: Any, data: Any) -> None:
    response = viewer_client.get(reverse("portouts:metrics_timeouts") + "?" + QUERY)
    assert response.status_code == 200
    rows = response.context["portouts"]
    assert [p.facts.outcome for p in rows] == ["timeout"]
    assert rows[0].get_absolute_url() in response.content.decode()


def test_only_staff_change_the_weekly_summary(
    viewer_client: Any, admin_client_user: Any, reviewer_client: Any
) -> None:
    url = reverse("portouts:metrics_weekly")
    group = Group.objects.get(name="Reviewer")
    for client in (viewer_client, reviewer_client):
        assert client.post(url, {"enabled": "on", "group": group.pk}).status_code == 403
    assert not WeeklySummarySettings.load().enabled
    page = admin_client_user.get(reverse("portouts:metrics"))
    assert "Weekly summary e-mail" in page.content.decode()
    admin_client_user.post(url, {"enabled": "on"})
    assert not WeeklySummarySettings.load().enabled  # a group is required
    admin_client_user.post(url, {"enabled": "on", "group": group.pk})
    config = WeeklySummarySettings.load()
    assert config.enabled and config.group == group


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server(settings: Any) -> Any:
    inbox = _Inbox()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }
    yield inbox
    controller.stop()


def _enable_weekly(reviewer: Any) -> None:
    reviewer.email = "rita@example.com"
    reviewer.save()
    WeeklySummarySettings.objects.update_or_create(
        pk=1, defaults={"enabled": True, "group": Group.objects.get(name="Reviewer")}
    )


def test_weekly_summary_is_sent_once_a_week(smtp_server: Any, reviewer: Any, data: Any) -> None:
    _enable_weekly(reviewer)
    monday_morning = at(9, hour=8)  # Monday 9 Nov: the summary of 2-8 Nov is due
    assert weekly_summary_send(now=monday_morning) == 1
    assert weekly_summary_send(now=monday_morning + timedelta(hours=1)) == 0
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert "rita@example.com" in envelope.rcpt_tos
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "Port-outs, week of 02 Nov: 1 authorized by timeout"
    text = mail.get_body(("plain",)).get_content()
    assert "Authorized by timeout: 1 (the week before: 1)" in text
    assert "start=2026-11-02&end=2026-11-08" in text
    assert WeeklySummarySettings.load().last_sent_week == date(2026, 11, 9)


def test_weekly_summary_waits_for_its_hour_and_for_a_group(smtp_server: Any, reviewer: Any) -> None:
    _enable_weekly(reviewer)
    assert weekly_summary_send(now=at(9, hour=3)) == 0  # before METRICS_WEEKLY_HOUR
    WeeklySummarySettings.objects.update(group=None)
    assert weekly_summary_send(now=at(9, hour=8)) == 0
    assert smtp_server.messages == []


def test_weekly_summary_failure_gives_the_week_back(settings: Any, reviewer: Any) -> None:
    _enable_weekly(reviewer)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed, "timeout": 2},
        }
    }
    with pytest.raises(OSError):
        weekly_summary_send(now=at(9, hour=8))
    assert WeeklySummarySettings.load().last_sent_week is None


def test_the_same_numbers_are_drawn_once(data: Any, monkeypatch: Any) -> None:
    from portouts.metrics import charts

    drawn: list[str] = []
    kinds = dict(charts._KINDS)

    def counting(kind: str) -> Any:
        def build(**config: Any) -> Any:
            drawn.append(kind)
            return kinds[kind](**config)

        return build

    monkeypatch.setattr(charts, "_KINDS", {k: counting(k) for k in kinds})
    m = metrics_for(WEEK)
    first = charts.metrics_charts(m)
    assert len(drawn) == 4
    assert charts.metrics_charts(metrics_for(WEEK)) == first
    assert len(drawn) == 4  # from the cache
    charts.metrics_charts(metrics_for(WEEK.previous()))
    assert len(drawn) > 4
