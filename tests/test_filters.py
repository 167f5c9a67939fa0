"""Filter values the database cannot take are form errors, never server errors."""

from __future__ import annotations

import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "foc_date=9999-12-31",
        "inserted_at_lte=9999-12-31",
        "ported_out_at_lte=9999-12-31",
        "inserted_at_gte=0001-01-01",
    ],
)
def test_out_of_range_list_dates_are_form_errors(viewer_client, query):
    response = viewer_client.get(f"{reverse('portouts:list')}?{query}")
    assert response.status_code == 200
    assert b"Enter a date between 1900 and 9998." in response.content


@pytest.mark.django_db
def test_out_of_range_event_dates_are_form_errors(viewer_client):
    response = viewer_client.get(f"{reverse('portouts:events')}?created_to=9999-12-31")
    assert response.status_code == 200
    assert b"Enter a date between 1900 and 9998." in response.content
