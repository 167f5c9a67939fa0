"""A local export's filters: the port-out list's query string, saved on the report and
validated again when the export runs (a bookmark may be old or hand-edited)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict

from portouts.filters import PortOutFilter
from portouts.form_text import describe_values, errors_sentence
from portouts.models import PortOut
from portouts.reports.errors import InvalidFilters, invalid_filters

#: Query-string keys that are not filters (the list's page, rows per page).
NOT_FILTERS = frozenset({"page", "per_page"})


def filters_from_query(query: str) -> dict[str, list[str]]:
    """The list's query string as a dict of lists (empty values and paging dropped)."""
    data = QueryDict(query.lstrip("?"))
    filters: dict[str, list[str]] = {}
    for key in data:
        if key in NOT_FILTERS:
            continue
        values = [v for v in data.getlist(key) if v.strip()]
        if values:
            filters[key] = values
    return filters


def describe_list_filters(filters: Mapping[str, Any]) -> str:
    """A local export's filters in words, through the list's labels and choices
    ("Statuses: pending, rejected · sorted by end user"); "" for every port-out."""
    return describe_values(PortOutFilter().form, filters)


def filter_errors(filters: Mapping[str, Iterable[str]]) -> str:
    """The filters' validation errors as one plain sentence, or "" when they are valid."""
    return _errors(_filterset(filters, PortOut.objects.none()))


def filtered_portouts(filters: Mapping[str, Iterable[str]]) -> QuerySet[PortOut]:
    """Exactly what the port-out list shows for these filters, in the list's order."""
    filterset = _filterset(filters, PortOut.objects.present())
    if not filterset.is_valid():
        raise InvalidFilters(invalid_filters(_errors(filterset)))
    return filterset.qs


def _filterset(filters: Mapping[str, Iterable[str]], queryset: QuerySet[PortOut]) -> PortOutFilter:
    data = QueryDict(mutable=True)
    for key, values in filters.items():
        data.setlist(key, [str(v) for v in values])
    return PortOutFilter(data=data, queryset=queryset)


def _errors(filterset: PortOutFilter) -> str:
    return "" if filterset.is_valid() else errors_sentence(filterset.form)
