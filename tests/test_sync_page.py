"""The Sync page: real durations, quiet runs folded, a full sync's progress in port-outs and
pages, the table refreshed when a run finishes, and one answer to "when did it last sync"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone

from portouts.models import SyncRun
from portouts.sync_history import seconds_text, sync_history, sync_last

URL = reverse("portouts:sync_runs")


def _run(kind="incremental", status="succeeded", *, start, seconds=1.0, **fields):
    run = SyncRun.objects.create(kind=kind, status=status, triggered_by="beat", **fields)
    finished = start + timedelta(seconds=seconds) if status != "running" else None
    SyncRun.objects.filter(pk=run.pk).update(started_at=start, finished_at=finished)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.04, "0.0 s"),
        (4.2, "4.2 s"),
        (42, "42 s"),
        (72, "1 min 12 s"),
        (600, "10 min"),
        (3900, "1 h 5 min"),
    ],
)
def test_durations_read_in_seconds_and_minutes(seconds, text):
    assert seconds_text(seconds) == text


def test_the_page_shows_each_runs_real_duration(viewer_client):
    start = timezone.now() - timedelta(hours=1)
    _run("full", start=start, seconds=72, counts={"created": 3})
    _run(start=start + timedelta(minutes=5), seconds=4.2, counts={"updated": 1})
    html = viewer_client.get(URL).content.decode()
    assert "1 min 12 s" in html
    assert "4.2 s" in html
    assert "0 minutes" not in html


def test_runs_without_changes_fold_into_one_line(viewer_client, settings):
    settings.TIME_ZONE = "UTC"
    start = timezone.now().replace(hour=20, minute=1, second=0, microsecond=0) - timedelta(days=1)
    _run("full", start=start - timedelta(minutes=30), seconds=60, counts={"created": 5})
    for minute in range(37):
        _run(start=start + timedelta(minutes=minute), seconds=0.5, counts={"unchanged": 0})
    _run(start=start + timedelta(minutes=40), seconds=2, counts={"updated": 2})

    rows = sync_history()
    assert [row.quiet for row in rows] == [0, 37, 0]
    html = viewer_client.get(URL).content.decode()
    assert "37 incremental runs without changes, 20:01–20:37" in html
    assert html.count('class="sync-quiet"') == 1


def test_a_single_quiet_run_or_a_failed_one_is_not_folded(db):
    start = timezone.now() - timedelta(hours=1)
    _run(start=start, seconds=1)
    _run(status="failed", start=start + timedelta(minutes=1), error="Telnyx did not answer")
    _run(start=start + timedelta(minutes=2), seconds=1)
    assert [row.quiet for row in sync_history()] == [0, 0, 0]


def test_a_full_sync_shows_its_progress_in_pages_and_port_outs(reviewer_client):
    start = timezone.now() - timedelta(seconds=30)
    run = _run(
        "full",
        "running",
        start=start,
        heartbeat_at=timezone.now(),
        picked_up_at=timezone.now(),
        counts={"event_pages": 3, "event_pages_total": 12},
    )
    progress = reverse("portouts:sync_progress", args=[run.pk])
    html = reviewer_client.get(progress).content.decode()
    assert "copying Telnyx's events, page 3 of 12" in html
    assert 'value="25"' in html  # the bar moves during the events stage too

    SyncRun.objects.filter(pk=run.pk).update(
        progress_done=500,
        progress_total=2000,
        counts={"event_pages": 12, "event_pages_total": 12, "pages": 2, "pages_total": 8},
    )
    html = reviewer_client.get(progress).content.decode()
    assert "500 of 2,000 port-outs (page 2 of 8)" in html
    assert 'value="25"' in html


def test_a_finished_run_refreshes_the_table_and_the_footer(reviewer_client):
    run = _run("full", "running", start=timezone.now(), heartbeat_at=timezone.now())
    progress = reverse("portouts:sync_progress", args=[run.pk])
    SyncRun.objects.filter(pk=run.pk).update(
        status="succeeded", finished_at=timezone.now(), counts={"created": 7}
    )
    response = reviewer_client.get(progress, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 286
    assert 'id="sync-history"' in html and 'hx-swap-oob="true"' in html
    assert 'id="sync-status"' in html and "Cache synced with Telnyx" in html
    assert "finished in" in html and "7 new" in html


def test_footer_and_page_agree_on_the_last_sync(viewer_client):
    now = timezone.now()
    # A long full sync that started first but ended last, and a quick incremental one.
    full = _run("full", start=now - timedelta(hours=2), seconds=7000)
    _run(start=now - timedelta(hours=1), seconds=1)
    assert sync_last().last_success == full
    html = viewer_client.get(URL).content.decode()
    said = naturaltime(full.finished_at)
    assert f"Last successful sync {said}." in html
    footer = html[html.index('id="sync-status"') :]
    assert f"{said}</time>" in footer
