"""The period a metrics page covers, and the one before it to compare with.

A period is whole days in the dashboard's time zone, `start` to `end` inclusive; the
previous period has the same number of days and ends the day before `start`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

#: the quick choices of the period form, in days
LAST_DAYS = (7, 30, 90)
DEFAULT_DAYS = 30
#: the earliest date a period may start (nothing older is in any cache)
EARLIEST = date(2000, 1, 1)
#: the longest period, in days: longer ones are refused rather than aggregated slowly
LONGEST = 731


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """The first instant of the period, aware."""
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def until(self) -> datetime:
        """The first instant after the period, aware."""
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    def previous(self) -> Period:
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def dates(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def query(self) -> str:
        """The period as the page's query string, for links and exports."""
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}"

    def __str__(self) -> str:
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"


def last_days(days: int, *, today: date | None = None) -> Period:
    today = today or timezone.localdate()
    return Period(today - timedelta(days=days - 1), today)


class PeriodForm(forms.Form):
    """Last 7, 30 or 90 days, or dates; reversed, absurd or over-long periods are errors."""

    last = forms.TypedChoiceField(
        label="Period",
        choices=[(str(d), f"Last {d} days") for d in LAST_DAYS] + [("", "Dates")],
        coerce=int,
        empty_value=None,
        required=False,
    )
    start = forms.DateField(label="From", required=False, widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(label="To", required=False, widget=forms.DateInput({"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end, last = data.get("start"), data.get("end"), data.get("last")
        if self.errors:
            return data
        if start is None and end is None:
            data["period"] = last_days(last or DEFAULT_DAYS)
            return data
        if start is None or end is None:
            raise forms.ValidationError("Give both dates, From and To, or choose a period.")
        today = timezone.localdate()
        if start > end:
            raise forms.ValidationError("From must be on or before To.")
        if start < EARLIEST or end > today:
            raise forms.ValidationError(
                f"Dates must lie between {EARLIEST:%d %b %Y} and today ({today:%d %b %Y})."
            )
        if (end - start).days + 1 > LONGEST:
            raise forms.ValidationError(f"A period is at most {LONGEST} days.")
        data["period"] = Period(start, end)
        return data
