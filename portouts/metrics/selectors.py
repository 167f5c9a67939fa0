"""The metrics of a period, aggregated in the database from the stored facts.

Eight queries whatever the period (a test counts them): the headline and the time-to-decision
distribution for this period and the one before, decisions per day, bounce-backs per day,
reviewers, rejection codes (and their names), gaining carriers and outcomes by risk flag.

A port-out belongs to the period it became pending in (`pending_at`: the carriers and the
flags); a decision or a bounce-back to the one it happened in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from portouts.choices import DecidedVia, DecisionOutcome, OutcomeLabel, RiskFlagKind
from portouts.metrics.aggregates import Percentile
from portouts.metrics.periods import Period
from portouts.models import PortOut, PortOutFacts, RejectionCode, RiskFlag

#: time-to-decision buckets of the distribution: (label, from hours, to hours)
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("Under 1 h", 0, 1),
    ("1–2 h", 1, 2),
    ("2–4 h", 2, 4),
    ("4–8 h", 4, 8),
    ("8–12 h", 8, 12),
    ("12–24 h", 12, 24),
    ("24 h or more", 24, None),
)
#: outcomes in the order the decisions-per-day chart stacks them; bounce-backs are added
DAY_OUTCOMES = (
    DecisionOutcome.AUTHORIZED,
    DecisionOutcome.REJECTED,
    DecisionOutcome.CANCELED,
    DecisionOutcome.TIMEOUT,
)
#: gaining carriers shown, most port-outs first
TOP_CARRIERS = 15
_BY_PERSON = [DecidedVia.DASHBOARD, DecidedVia.TELNYX]
#: how the flags table and chart name the port-outs without an outcome label
NOT_LABELLED = "Not labelled yet"
#: outcome labels in the order the flags table and chart show them: fraud first
FLAG_OUTCOMES: tuple[str, ...] = tuple(
    sorted(OutcomeLabel.values, key=lambda label: label != OutcomeLabel.FRAUD)
)


@dataclass(frozen=True)
class Figure:
    """A headline number beside the previous period's."""

    label: str
    value: float | None
    before: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.before is None:
            return None
        return self.value - self.before


@dataclass(frozen=True)
class DayRow:
    """Decisions in one day, week or month (`Metrics.unit`), starting on `day`."""

    day: date
    authorized: int = 0
    rejected: int = 0
    canceled: int = 0
    timeout: int = 0
    bounced: int = 0


@dataclass(frozen=True)
class ReviewerRow:
    reviewer: str
    decisions: int
    median_seconds: float | None
    rejections: int


@dataclass(frozen=True)
class CountRow:
    label: str
    count: int


@dataclass(frozen=True)
class FlagRow:
    """The port-outs of a period that carried one risk flag, and how they were labelled."""

    label: str
    flagged: int
    #: port-outs per outcome label (FLAG_OUTCOMES)
    outcomes: dict[str, int]

    @property
    def labelled(self) -> int:
        return sum(self.outcomes.values())

    @property
    def unlabelled(self) -> int:
        return self.flagged - self.labelled

    @property
    def fraud(self) -> int:
        return self.outcomes[OutcomeLabel.FRAUD]

    @property
    def fraud_share(self) -> float | None:
        """How often the flag was right: the labelled port-outs found to be fraud."""
        return self.fraud / self.labelled if self.labelled else None


@dataclass
class Metrics:
    period: Period
    previous: Period
    timeouts: Figure
    decided: Figure
    median_seconds: Figure
    p90_seconds: Figure
    rejections: Figure
    bounced: Figure
    foc_changes: Figure
    alert_to_claim: Figure
    unit: str = "day"
    distribution: list[CountRow] = field(default_factory=list)
    days: list[DayRow] = field(default_factory=list)
    reviewers: list[ReviewerRow] = field(default_factory=list)
    codes: list[CountRow] = field(default_factory=list)
    carriers: list[CountRow] = field(default_factory=list)
    flags: list[FlagRow] = field(default_factory=list)


def _within(name: str, period: Period) -> Q:
    return Q(**{f"{name}__gte": period.since, f"{name}__lt": period.until})


def metrics_for(period: Period) -> Metrics:
    """Every figure, chart series and table of the metrics page for `period`."""
    previous = period.previous()
    head = _headline(period, previous)
    return Metrics(
        period=period,
        previous=previous,
        timeouts=Figure("Authorized by timeout", head["timeouts"], head["timeouts_before"]),
        decided=Figure("Decided by a person", head["decided"], head["decided_before"]),
        median_seconds=Figure("Median time to decision", head["median"], head["median_before"]),
        p90_seconds=Figure("90th percentile", head["p90"], head["p90_before"]),
        rejections=Figure("Rejections", head["rejected"], head["rejected_before"]),
        bounced=Figure("Bounced back", head["bounced"], head["bounced_before"]),
        foc_changes=Figure("FOC date changes", head["foc"] or 0, head["foc_before"] or 0),
        alert_to_claim=Figure(
            "Median time from first alert to claim", head["claim"], head["claim_before"]
        ),
        distribution=[CountRow(label, head[f"bucket{n}"]) for n, (label, *_) in enumerate(BUCKETS)],
        unit=unit_for(period),
        days=_days(period),
        reviewers=_reviewers(period),
        codes=_codes(period),
        carriers=_carriers(period),
        flags=_flags(period),
    )


def _headline(period: Period, previous: Period) -> dict[str, Any]:
    aggregates: dict[str, Any] = {}
    for suffix, p in (("", period), ("_before", previous)):
        decided = _within("decided_at", p)
        by_person = decided & Q(decided_via__in=_BY_PERSON)
        aggregates |= {
            f"timeouts{suffix}": Count("pk", filter=decided & Q(outcome=DecisionOutcome.TIMEOUT)),
            f"decided{suffix}": Count("pk", filter=by_person),
            f"median{suffix}": Percentile("decision_seconds", 0.5, filter=by_person),
            f"p90{suffix}": Percentile("decision_seconds", 0.9, filter=by_person),
            f"rejected{suffix}": Count("pk", filter=decided & Q(outcome=DecisionOutcome.REJECTED)),
            f"bounced{suffix}": Count("pk", filter=_within("bounced_back_at", p)),
            f"foc{suffix}": Sum("foc_changes", filter=_within("pending_at", p)),
            f"claim{suffix}": Percentile(
                "alert_to_claim_seconds", 0.5, filter=_within("first_alert_at", p)
            ),
        }
    by_person = _within("decided_at", period) & Q(decided_via__in=_BY_PERSON)
    for n, (_, low, high) in enumerate(BUCKETS):
        span = Q(decision_seconds__gte=low * 3600)
        if high is not None:
            span &= Q(decision_seconds__lt=high * 3600)
        aggregates[f"bucket{n}"] = Count("pk", filter=by_person & span)
    both = Period(previous.start, period.end)
    rows = PortOutFacts.objects.filter(
        _within("decided_at", both)
        | _within("bounced_back_at", both)
        | _within("pending_at", both)
        | _within("first_alert_at", both)
    )
    return rows.aggregate(**aggregates)


#: the unit decisions are counted in, by the period's length: (longest period in days, unit)
UNITS = ((31, "day"), (182, "week"), (None, "month"))
_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}


def unit_for(period: Period) -> str:
    """Days for a month or less, weeks up to half a year, months beyond: a chart stays
    readable (and quick to draw) whatever the period."""
    return next(unit for longest, unit in UNITS if longest is None or period.days <= longest)


def unit_starts(period: Period) -> list[date]:
    """The first day of every day, week (Monday) or month of the period."""
    unit = unit_for(period)
    if unit == "day":
        return period.dates()
    if unit == "week":
        first = period.start - timedelta(days=period.start.weekday())
        return [first + timedelta(weeks=n) for n in range((period.end - first).days // 7 + 1)]
    starts, current = [], period.start.replace(day=1)
    while current <= period.end:
        starts.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return starts


def _by_unit(rows: QuerySet[PortOutFacts], name: str, unit: str) -> QuerySet[PortOutFacts]:
    """The rows grouped by the local day, week or month of `name` (`values_list("day")`)."""
    trunc = _TRUNC[unit](name, tzinfo=timezone.get_current_timezone())
    return rows.annotate(day=trunc).order_by()


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _days(period: Period) -> list[DayRow]:
    unit = unit_for(period)
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    decided = _by_unit(
        PortOutFacts.objects.filter(_within("decided_at", period)), "decided_at", unit
    )
    per_outcome = decided.values_list("day", "outcome").annotate(n=Count("pk"))  # type: ignore[misc]
    for day, outcome, n in per_outcome:
        counts[_day(day)][outcome] = n
    bounced = _by_unit(
        PortOutFacts.objects.filter(_within("bounced_back_at", period)), "bounced_back_at", unit
    )
    for day, n in bounced.values_list("day").annotate(n=Count("pk")):  # type: ignore[misc]
        counts[_day(day)]["bounced"] = n
    return [
        DayRow(day, **{k: v for k, v in counts.get(day, {}).items() if k in _DAY_KEYS})
        for day in unit_starts(period)
    ]


_DAY_KEYS = {*DAY_OUTCOMES, "bounced"}


def _reviewers(period: Period) -> list[ReviewerRow]:
    rows = (
        PortOutFacts.objects.filter(_within("decided_at", period), decided_by__isnull=False)
        .values("decided_by__username", "decided_by__first_name", "decided_by__last_name")
        .annotate(
            decisions=Count("pk"),
            median=Percentile("decision_seconds", 0.5),
            rejections=Count("pk", filter=Q(outcome=DecisionOutcome.REJECTED)),
        )
        .order_by("-decisions", "decided_by__username")
    )
    return [
        ReviewerRow(
            " ".join(filter(None, (r["decided_by__first_name"], r["decided_by__last_name"])))
            or r["decided_by__username"],
            r["decisions"],
            r["median"],
            r["rejections"],
        )
        for r in rows
    ]


def _codes(period: Period) -> list[CountRow]:
    """Rejections by our code (named by the description Telnyx gave it) or Telnyx's reason."""
    rows = list(
        PortOutFacts.objects.filter(_within("decided_at", period), outcome=DecisionOutcome.REJECTED)
        .values_list("rejection")
        .annotate(n=Count("pk"))
        .order_by("-n", "rejection")
    )
    numbers = [int(code) for code, _ in rows if code.isdigit()]
    names = dict(
        RejectionCode.objects.filter(code__in=numbers)
        .order_by("code", "description")
        .values_list("code", "description")
        .distinct()
    )
    return [CountRow(_code_label(code, names), n) for code, n in rows]


def _code_label(code: str, names: dict[int, str]) -> str:
    if not code:
        return "No code recorded"
    if code.isdigit() and int(code) in names:
        return f"{code}: {names[int(code)]}"
    return code


def _carriers(period: Period) -> list[CountRow]:
    rows = (
        PortOutFacts.objects.filter(_within("pending_at", period))
        .values_list("carrier_name", "spid")
        .annotate(n=Count("pk"))
        .order_by("-n", "carrier_name")[:TOP_CARRIERS]
    )
    return [CountRow(_carrier_label(name, spid), n) for name, spid, n in rows]


def _carrier_label(name: str, spid: str) -> str:
    if name and spid:
        return f"{name} (SPID {spid})"
    return name or (f"SPID {spid}" if spid else "Unknown carrier")


_KIND_ORDER = {kind: n for n, kind in enumerate(RiskFlagKind.values)}


def _flags(period: Period) -> list[FlagRow]:
    """Per flag kind, the period's port-outs that carry it and their outcome labels, in the
    vocabulary's order. A label counts whenever it was given (fraud is often confirmed
    weeks later); a port-out carries a kind at most once. The label is the facts' copy, so
    the flags join the facts alone."""
    rows = (
        RiskFlag.objects.filter(_within("facts__pending_at", period))
        .values_list("kind")
        .annotate(
            flagged=Count("pk"),
            **{label: Count("pk", filter=Q(facts__outcome_label=label)) for label in FLAG_OUTCOMES},
        )
        .order_by()
    )
    in_order = sorted(rows, key=lambda row: (_KIND_ORDER.get(row[0], len(_KIND_ORDER)), row[0]))
    return [
        FlagRow(
            RiskFlagKind(kind).label if kind in _KIND_ORDER else kind,
            flagged,
            dict(zip(FLAG_OUTCOMES, counts, strict=True)),
        )
        for kind, flagged, *counts in in_order
    ]


def timeouts_in(period: Period, *, limit: int = 500) -> list[PortOut]:
    """The port-outs Telnyx authorized by timeout in the period, latest first."""
    return list(
        PortOut.objects.filter(
            _within("facts__decided_at", period), facts__outcome=DecisionOutcome.TIMEOUT
        )
        .select_related("facts")
        .order_by("-facts__decided_at")[:limit]
    )
