"""Permissions kept in the cache: fewer queries, and a change of role counts at once."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from portal.permissions import GENERATION_KEY, CachedPermissionsBackend
from portouts.roles import REVIEWER, VIEWER

pytestmark = pytest.mark.django_db


def _permission_queries(client, url="/") -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        status = client.get(url).status_code
    return status, sum("auth_permission" in q["sql"] for q in ctx.captured_queries)


def test_a_second_page_reads_no_permissions_from_the_database(viewer_client):
    assert _permission_queries(viewer_client) == (200, 2)  # the user's own, their groups'
    assert _permission_queries(viewer_client) == (200, 0)


def test_leaving_a_role_counts_from_the_next_request(viewer, viewer_client):
    assert _permission_queries(viewer_client) == (200, 2)
    viewer.groups.remove(Group.objects.get(name=VIEWER))
    assert viewer_client.get("/").status_code == 403


def test_a_permission_taken_from_a_group_counts_from_the_next_request(reviewer, reviewer_client):
    comment_url = "/portouts/unknown-id/comments/"
    assert reviewer_client.get("/").status_code == 200
    Group.objects.get(name=REVIEWER).permissions.remove(
        Permission.objects.get(codename="view_portout")
    )
    assert reviewer_client.get("/").status_code == 403
    assert reviewer_client.post(comment_url, {"body": "x"}).status_code == 403


def test_a_role_given_counts_from_the_next_request(viewer, django_user_model):
    assert not viewer.has_perm("portouts.review_portout")
    viewer.groups.add(Group.objects.get(name=REVIEWER))
    next_request_user = django_user_model.objects.get(pk=viewer.pk)
    assert next_request_user.has_perm("portouts.review_portout")


def test_the_change_moves_the_generation_again_at_commit(
    viewer, django_capture_on_commit_callbacks
):
    """A set read before the commit, kept under the generation of the change, is stale."""
    viewer.has_perm("portouts.view_portout")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        viewer.groups.remove(Group.objects.get(name=VIEWER))
        at_change = cache.get(GENERATION_KEY)
    assert len(callbacks) == 1 and cache.get(GENERATION_KEY) != at_change


def test_a_set_kept_under_another_generation_is_not_used(viewer):
    backend = CachedPermissionsBackend()
    cache.set(GENERATION_KEY, 2, timeout=None)
    cache.set(f"perms:{viewer.pk}:0", (1, {"portouts.review_portout"}))
    assert "portouts.review_portout" not in backend.get_all_permissions(viewer)
    assert cache.get(f"perms:{viewer.pk}:0")[0] == 2


def test_with_the_cache_down_permissions_come_from_the_database(
    viewer, viewer_client, monkeypatch, caplog
):
    def refuse(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "get_many", refuse)
    monkeypatch.setattr(cache, "set", refuse)
    assert _permission_queries(viewer_client) == (200, 2)
    viewer.groups.clear()  # the generation cannot move: nothing was kept either
    assert viewer_client.get("/").status_code == 403
    assert "the cache is unreachable" in caplog.text
