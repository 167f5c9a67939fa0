"""PostgreSQL prepares the statements a connection runs again and again
(`DATABASE_PREPARE_THRESHOLD`): it then skips parsing and planning them."""

from __future__ import annotations

import pytest
from django.db import connection

from portouts.models import PortOut

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def _prepared() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_a_query_run_again_is_prepared_and_its_values_stay_parameters(make_portout):
    assert connection.features.uses_server_side_binding
    for portout_id in ("first", "second", "third"):
        list(PortOut.objects.filter(id=portout_id).values_list("status"))
    prepared = [s for s in _prepared() if 'FROM "portouts_portout"' in s and "$1" in s]
    assert prepared, "the repeated query was not prepared"
    assert not any("'second'" in s or "'third'" in s for s in prepared)
    # Prepared or not, the answers are the ORM's.
    make_portout(id="fourth", status="pending")
    for _ in range(3):
        assert list(PortOut.objects.filter(id="fourth").values_list("status")) == [("pending",)]
