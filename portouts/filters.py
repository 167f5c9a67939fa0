"""FilterSets of the dashboard's lists.

`PortOutFilter` offers one filter per filter of Telnyx's `GET /portouts` (same names, so a
bookmarked URL reads like the API query), plus a free-text `q` and the `o` ordering.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from portouts.choices import EXTRA_ORDERS, LIST_COLUMNS, EventType, PortOutStatus, TimeLeft
from portouts.forms import DateRangeForm
from portouts.ids import is_portout_reference, is_telnyx_id
from portouts.models import PortOut, PortOutEvent, PortOutNumber
from portouts.phones import PhoneQuery, looks_like_phone, parse_phone
from portouts.urgency import time_left_q

COUNTRY = re.compile(r"^[A-Za-z]{2}$")


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


class DayField(forms.DateField):
    """A calendar day within a range the database can add a day to (no year 9999 overflow)."""

    def clean(self, value: Any) -> date | None:  # type: ignore[override]
        day = super().clean(value)
        if day is not None and not 1900 <= day.year <= 9998:
            raise ValidationError("Enter a date between 1900 and 9998.", code="out_of_range")
        return day


class DayFilter(django_filters.DateFilter):
    field_class = DayField


def on_or_after(queryset: QuerySet[Any], name: str, value: date) -> QuerySet[Any]:
    """From the start of that (UTC) day."""
    return queryset.filter(**{f"{name}__gte": _day_start(value)})


def on_or_before(queryset: QuerySet[Any], name: str, value: date) -> QuerySet[Any]:
    """Up to the end of that (UTC) day, as the API client sends an upper-bound date."""
    return queryset.filter(**{f"{name}__lt": _day_start(value) + timedelta(days=1)})


class PhoneNumberField(forms.CharField):
    """A phone number or part of one, read by `portouts.phones.parse_phone`."""

    def clean(self, value: Any) -> PhoneQuery | None:  # type: ignore[override]
        value = super().clean(value)
        return parse_phone(value) if value else None


class CountryCodesField(forms.CharField):
    """ISO country codes separated by commas or spaces ("US, CA")."""

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        value = super().clean(value)
        if not value:
            return []
        codes = [c for c in re.split(r"[\s,]+", value) if c]
        bad = [c for c in codes if not COUNTRY.match(c)]
        if bad:
            raise ValidationError(
                "Use two-letter country codes separated by commas, e.g. US, CA "
                f"(not {', '.join(bad[:3])}).",
                code="invalid_country",
            )
        return [c.upper() for c in codes]


class CountryCodeField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value:
            return ""
        if not COUNTRY.match(value.strip()):
            raise ValidationError("Use a two-letter country code, e.g. US.", code="invalid_country")
        return value.strip().upper()


class TelnyxIdField(forms.CharField):
    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not is_telnyx_id(value):
            raise ValidationError(
                "Enter an id as Telnyx shows it, e.g. 5d4b9f3a-0c1e-4b8e-9a4f-2f6c1e7d8a90.",
                code="invalid_id",
            )
        return value


class TelnyxIdFilter(django_filters.CharFilter):
    field_class = TelnyxIdField


class PortOutReferenceField(forms.CharField):
    """A port-out's support key (PO_779658) or its Telnyx id."""

    def clean(self, value: Any) -> str:
        value = (super().clean(value) or "").strip()
        if value and not is_portout_reference(value):
            raise ValidationError(
                "Enter a support key (PO_779658) or a port-out id as Telnyx shows it.",
                code="invalid_id",
            )
        return value


class PortOutReferenceFilter(django_filters.CharFilter):
    """Rows of one port-out, named by support key or id (`PortOutQuerySet.by_reference`);
    rows of an id the cache does not hold (yet) still match it."""

    field_class = PortOutReferenceField

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        if not value:
            return qs
        ids = PortOut.objects.by_reference(value).values("id")
        return qs.filter(Q(**{self.field_name: value}) | Q(**{f"{self.field_name}__in": ids}))


class PhoneNumberFilter(django_filters.CharFilter):
    field_class = PhoneNumberField


class CountryCodesFilter(django_filters.CharFilter):
    field_class = CountryCodesField


class CountryCodeFilter(django_filters.CharFilter):
    field_class = CountryCodeField


def _date_widget() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"})


class PortOutFilterForm(DateRangeForm):
    date_ranges = (
        ("inserted_at_gte", "inserted_at_lte"),
        ("ported_out_at_gte", "ported_out_at_lte"),
    )


class PortOutEventFilterForm(DateRangeForm):
    date_ranges = (("created_from", "created_to"),)


class PortOutFilter(django_filters.FilterSet):
    """Filters of the port-out list; every value comes from the query string."""

    q = django_filters.CharFilter(
        method="filter_q",
        label="Search",
        help_text="End user, number, PON or support key",
    )
    status = django_filters.ChoiceFilter(
        choices=PortOutStatus.choices, label="Status", empty_label="Any status"
    )
    status_in = django_filters.MultipleChoiceFilter(
        field_name="status",
        choices=PortOutStatus.choices,
        label="Statuses",
        widget=forms.SelectMultiple(attrs={"size": 3}),
    )
    time_left = django_filters.ChoiceFilter(
        method="filter_time_left",
        choices=TimeLeft.choices,
        label="Time left",
        empty_label="Any time left",
        help_text="Pending port-outs by where they stand in the response window",
    )
    carrier_name = django_filters.CharFilter(lookup_expr="icontains", label="Gaining carrier")
    spid = django_filters.CharFilter(lookup_expr="iexact", label="SPID")
    pon = django_filters.CharFilter(lookup_expr="icontains", label="PON")
    phone_number = PhoneNumberFilter(method="filter_phone_number", label="Phone number")
    support_key = django_filters.CharFilter(lookup_expr="icontains", label="Support key")
    country_code = CountryCodeFilter(field_name="country_code", label="Country")
    country_code_in = CountryCodesFilter(method="filter_country_code_in", label="Countries")
    foc_date = DayFilter(method="filter_foc_date", label="FOC date", widget=_date_widget())
    inserted_at_gte = DayFilter(
        method=on_or_after,
        field_name="inserted_at",
        label="Created from",
        widget=_date_widget(),
    )
    inserted_at_lte = DayFilter(
        method=on_or_before, field_name="inserted_at", label="Created to", widget=_date_widget()
    )
    ported_out_at_gte = DayFilter(
        method=on_or_after,
        field_name="ported_out_at",
        label="Ported out from",
        widget=_date_widget(),
    )
    ported_out_at_lte = DayFilter(
        method=on_or_before,
        field_name="ported_out_at",
        label="Ported out to",
        widget=_date_widget(),
    )
    o = django_filters.OrderingFilter(
        fields=tuple((c.sort_field, c.order) for c in LIST_COLUMNS if c.order) + EXTRA_ORDERS,
        field_labels={c.sort_field: c.label for c in LIST_COLUMNS if c.order},
        label="Sort by",
    )

    class Meta:
        model = PortOut
        form = PortOutFilterForm
        fields: list[str] = []

    # Filter methods ------------------------------------------------------------------

    def filter_q(self, queryset: QuerySet[PortOut], name: str, value: str) -> QuerySet[PortOut]:
        value = value.strip()
        if not value:
            return queryset
        match = (
            Q(end_user_name__icontains=value)
            | Q(pon__icontains=value)
            | Q(support_key__icontains=value)
        )
        if looks_like_phone(value):
            match |= Q(id__in=_numbers_matching(parse_phone(value)))
        return queryset.filter(match)

    def filter_time_left(
        self, queryset: QuerySet[PortOut], name: str, value: str
    ) -> QuerySet[PortOut]:
        if not value:
            return queryset
        return queryset.filter(time_left_q(TimeLeft(value)), status=PortOutStatus.PENDING)

    def filter_phone_number(
        self, queryset: QuerySet[PortOut], name: str, value: PhoneQuery | None
    ) -> QuerySet[PortOut]:
        return queryset.filter(id__in=_numbers_matching(value)) if value else queryset

    def filter_country_code_in(
        self, queryset: QuerySet[PortOut], name: str, value: list[str]
    ) -> QuerySet[PortOut]:
        return queryset.filter(country_code__in=value) if value else queryset

    def filter_foc_date(
        self, queryset: QuerySet[PortOut], name: str, value: date
    ) -> QuerySet[PortOut]:
        # FOC dates come back as midnight UTC: match the whole UTC day.
        start = _day_start(value)
        return queryset.filter(foc_date__gte=start, foc_date__lt=start + timedelta(days=1))

    def filter_queryset(self, queryset: QuerySet[PortOut]) -> QuerySet[PortOut]:
        queryset = super().filter_queryset(queryset)
        # A stable order, so pages neither repeat nor skip rows between requests. The id
        # follows the direction of the first key, so one index can serve the whole order.
        ordering = [str(o) for o in queryset.query.order_by] or ["-created_at"]
        if "id" not in ordering and "-id" not in ordering:
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return queryset.order_by(*ordering)


def _numbers_matching(phone: PhoneQuery) -> QuerySet[PortOutNumber, Any]:
    """Port-outs with a number that starts with what was typed ("+1 206"), whose national
    number starts with it ("(206)"), or that holds its digits anywhere ("555-0100")."""
    numbers = PortOutNumber.objects
    if phone.start:
        return numbers.filter(number__startswith=phone.start).values("portout_id")
    if phone.national:
        return numbers.filter(number__regex=phone.national_pattern).values("portout_id")
    return numbers.filter(number__contains=phone.digits).values("portout_id")


class PortOutEventFilter(django_filters.FilterSet):
    """Filters of the events page: event type, a date range and one port-out."""

    event_type = django_filters.ChoiceFilter(
        label="Event type",
        empty_label="Any type",
        choices=EventType.choices,
    )
    created_from = DayFilter(
        method=on_or_after, field_name="created_at", label="From", widget=_date_widget()
    )
    created_to = DayFilter(
        method=on_or_before, field_name="created_at", label="To", widget=_date_widget()
    )
    portout = PortOutReferenceFilter(field_name="portout_id", label="Port-out (support key or id)")

    class Meta:
        model = PortOutEvent
        form = PortOutEventFilterForm
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[PortOutEvent]) -> QuerySet[PortOutEvent]:
        # Newest first, with the id as a tie-breaker so pages neither repeat nor skip rows.
        return super().filter_queryset(queryset).order_by("-created_at", "-id")
