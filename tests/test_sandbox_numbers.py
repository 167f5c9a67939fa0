"""The account's number inventory (GET /v2/phone_numbers), its consistency with the
port-outs, the seeded evidence scenarios, the customers CSV, and traffic's new port-outs."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import Counter

import httpx
import pytest
import telnyx

from telnyx_sandbox.customers import CSV_COLUMNS
from telnyx_sandbox.numbers import OPEN_STATUSES
from telnyx_sandbox.scenarios import BOUNCE_COMMENT, NEW_CARRIER
from telnyx_sandbox.seed import seed_state
from telnyx_sandbox.server import SandboxServer
from telnyx_sandbox.state import SandboxState
from telnyx_sandbox.traffic import TrafficGenerator

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
NUMBER_FIELDS = {
    "id",
    "record_type",
    "phone_number",
    "status",
    "tags",
    "customer_reference",
    "purchased_at",
    "created_at",
    "updated_at",
    "source",
    "connection_id",
}


@pytest.fixture
def api(sandbox: SandboxServer):
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": "Bearer test-key"}, timeout=5
    ) as client:
        yield client


def _all(api: httpx.Client, **params: str) -> list[dict]:
    """Every number the filters select, walking the pages."""
    out: list[dict] = []
    page = 1
    while True:
        body = api.get(
            "/phone_numbers", params={**params, "page[size]": 250, "page[number]": page}
        ).json()
        out += body["data"]
        if page >= body["meta"]["total_pages"]:
            return out
        page += 1


# ---------------------------------------------------------------- the endpoint


def test_list_needs_the_api_key(sandbox: SandboxServer) -> None:
    response = httpx.get(sandbox.base_url + "/phone_numbers")
    assert response.status_code == 401 and response.json()["errors"][0]["code"] == "10009"


def test_list_defaults_to_20_newest_first_with_meta(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    body = api.get("/phone_numbers").json()
    total = len(sandbox.state.inventory.numbers)
    assert body["meta"] == {
        "page_number": 1,
        "page_size": 20,
        "total_pages": -(-total // 20),
        "total_results": total,
    }
    assert len(body["data"]) == 20
    created = [n["created_at"] for n in body["data"]]
    assert created == sorted(created, reverse=True)
    record = body["data"][0]
    assert set(record) >= NUMBER_FIELDS and record["record_type"] == "phone_number"
    assert re.fullmatch(r"\+1\d{10}", record["phone_number"])
    assert all(ISO_Z.match(record[k]) for k in ("purchased_at", "created_at", "updated_at"))
    assert isinstance(record["tags"], list) and record["source"] in ("purchased", "ported")


def test_pages_cover_every_number_once(api: httpx.Client, sandbox: SandboxServer) -> None:
    seen = [
        n["id"]
        for page in (1, 2, 3, 4)
        for n in api.get("/phone_numbers", params={"page[size]": 97, "page[number]": page}).json()[
            "data"
        ]
    ]
    total = len(sandbox.state.inventory.numbers)
    assert len(seen) == len(set(seen)) == min(total, 4 * 97)
    assert {n["id"] for n in _all(api)} == set(sandbox.state.inventory.by_id)
    beyond = api.get("/phone_numbers", params={"page[number]": 999}).json()
    assert beyond["data"] == [] and beyond["meta"]["page_number"] == 999


def test_a_removed_number_is_gone_and_its_id_never_issued_again(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    inventory = sandbox.state.inventory
    gone = next(iter(inventory.numbers.values()))
    with sandbox.state.lock:
        inventory.remove(gone.phone_number)
        fresh = inventory.next_id()
    listed = {n["id"]: n["phone_number"] for n in _all(api)}
    assert gone.id not in listed and gone.phone_number not in listed.values()
    assert fresh not in inventory.by_id and fresh != gone.id
    assert all(gone.phone_number not in c.numbers for c in inventory.customers.values())


def test_each_filter_really_filters(api: httpx.Client, sandbox: SandboxServer) -> None:
    numbers = list(sandbox.state.inventory.numbers.values())
    one = numbers[5]
    exact = api.get("/phone_numbers", params={"filter[phone_number]": one.phone_number})
    assert [n["id"] for n in exact.json()["data"]] == [one.id]
    digits = one.phone_number[2:8]
    partial = _all(api, **{"filter[phone_number]": digits})
    assert {n["id"] for n in partial} == {n.id for n in numbers if digits in n.phone_number}
    ref = one.customer_reference or next(
        n.customer_reference for n in numbers if n.customer_reference
    )
    owned = _all(api, **{"filter[customer_reference]": ref})
    assert {n["id"] for n in owned} == {n.id for n in numbers if n.customer_reference == ref}
    tagged = _all(api, **{"filter[tag]": "main-line"})
    assert tagged and all("main-line" in n["tags"] for n in tagged)
    assert len(tagged) == sum("main-line" in n.tags for n in numbers)
    for status in ("active", "port-out-pending", "ported-out"):
        listed = _all(api, **{"filter[status]": status})
        assert listed and {n["status"] for n in listed} == {status}
        assert len(listed) == sum(n.status == status for n in numbers)
    ported_in = _all(api, **{"filter[source]": "ported"})
    assert ported_in and len(ported_in) == sum(n.source == "ported" for n in numbers)
    both = _all(api, **{"filter[customer_reference]": ref, "filter[status]": "active"})
    assert all(n["customer_reference"] == ref and n["status"] == "active" for n in both)
    none = api.get("/phone_numbers", params={"filter[status]": "deleted"}).json()
    assert none["data"] == [] and none["meta"]["total_results"] == 0
    letters = api.get("/phone_numbers", params={"filter[phone_number]": "303abc"}).json()
    assert letters["data"] == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("filter[phone_number]", "12"),
        ("filter[status]", "lost"),
        ("filter[source]", "stolen"),
        ("filter[colour]", "red"),
        ("page[size]", "251"),
        ("page[number]", "0"),
    ],
)
def test_malformed_filters_are_422(api: httpx.Client, param: str, value: str) -> None:
    response = api.get("/phone_numbers", params={param: value})
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["parameter"] == param


def test_get_one_and_404(api: httpx.Client, sandbox: SandboxServer) -> None:
    number = next(iter(sandbox.state.inventory.numbers.values()))
    data = api.get(f"/phone_numbers/{number.id}").json()["data"]
    assert data["phone_number"] == number.phone_number and data["id"] == number.id
    missing = api.get("/phone_numbers/1")
    assert missing.status_code == 404 and missing.json()["errors"][0]["code"] == "10005"


def test_faults_apply_to_phone_numbers(api: httpx.Client, sandbox: SandboxServer) -> None:
    sandbox.faults.queue("429", "503")
    assert [api.get("/phone_numbers").status_code for _ in range(3)] == [429, 503, 200]


def test_official_sdk_lists_and_retrieves_phone_numbers(sandbox: SandboxServer) -> None:
    client = telnyx.Telnyx(api_key="KEYofficial", base_url=sandbox.base_url, max_retries=0)
    try:
        listed = list(client.phone_numbers.list(page_size=50))
        assert {n.id for n in listed} == set(sandbox.state.inventory.by_id)
        pending = list(client.phone_numbers.list(filter={"status": "port-out-pending"}))
        assert pending and {n.status for n in pending} == {"port-out-pending"}
        first = listed[0]
        ref = next(n.customer_reference for n in listed if n.customer_reference)
        owned = list(client.phone_numbers.list(filter={"customer_reference": ref}))
        assert owned and {n.customer_reference for n in owned} == {ref}
        fetched = client.phone_numbers.retrieve(first.id).data
        assert fetched is not None and fetched.phone_number == first.phone_number
        assert fetched.created_at.tzinfo is not None
    finally:
        client.close()


# ---------------------------------------------------------------- consistency


def test_every_portout_number_is_the_accounts_with_the_status_it_implies(
    sandbox: SandboxServer,
) -> None:
    state = sandbox.state
    numbers = state.inventory.numbers
    for po in state.portouts.values():
        assert all(n in numbers for n in po.phone_numbers), po.support_key
        if po.status in OPEN_STATUSES:
            assert {numbers[n].status for n in po.phone_numbers} == {"port-out-pending"}
        elif po.status == "ported":
            assert {numbers[n].status for n in po.phone_numbers} == {"ported-out"}
    named = {n for po in state.portouts.values() for n in po.phone_numbers}
    assert len(numbers) > len(named)  # numbers no port-out names
    held = {
        n for po in state.portouts.values() if po.status in OPEN_STATUSES for n in po.phone_numbers
    }
    assert {n for n, rec in numbers.items() if rec.status == "port-out-pending"} == held


def test_customers_own_one_to_forty_numbers_some_many() -> None:
    state = SandboxState()
    seed_state(state, 400, 2)
    sizes = [len(c.numbers) for c in state.inventory.customers.values()]
    assert min(sizes) >= 1 and max(sizes) <= 40 and sum(s >= 20 for s in sizes) >= 5
    refs = Counter(n.customer_reference for n in state.inventory.numbers.values())
    assert all(re.fullmatch(r"CUST-\d{5}", r) for r in refs if r is not None)
    assert refs[None] >= 2  # the "no customer record" numbers
    for po in state.portouts.values():
        customer = state.inventory.customers.get(po.customer_reference)
        if customer is not None:
            assert set(po.phone_numbers) <= set(customer.numbers)
            assert po.country_code == customer.country
    ported = [
        n for po in state.portouts.values() if po.status == "ported" for n in po.phone_numbers
    ]
    assert len(ported) == len(set(ported))  # a number ports out once
    assert all(
        state.inventory.numbers[n].purchased_ts < po.created_ts
        for po in state.portouts.values()
        for n in po.phone_numbers
    )


def test_numbers_follow_new_portouts(sandbox: SandboxServer, api: httpx.Client) -> None:
    state = sandbox.state
    po = state.create_portout()
    customer = state.inventory.customers[po.customer_reference]
    assert set(po.phone_numbers) <= set(customer.numbers)
    assert po.end_user_name  # the customer's name as the carrier sent it
    listed = api.get("/phone_numbers", params={"filter[phone_number]": po.phone_numbers[0]})
    assert listed.json()["data"][0]["status"] in ("port-out-pending", "active")
    state.change_status(po.id, "canceled")
    assert {state.inventory.numbers[n].status for n in po.phone_numbers} == {"active"}
    unknown = state.create_portout(phone_numbers=["+13035550123"])
    record = state.inventory.numbers["+13035550123"]
    assert record.customer_reference is None and record.status == "port-out-pending"
    assert unknown.customer_reference == ""


def test_portout_phone_number_filter_finds_earlier_attempts(
    api: httpx.Client, sandbox: SandboxServer
) -> None:
    attempts = Counter(n for po in sandbox.state.portouts.values() for n in po.phone_numbers)
    number, count = attempts.most_common(1)[0]
    assert count >= 4  # the repeated wrong-PIN attempts
    body = api.get("/portouts", params={"filter[phone_number]": number}).json()
    assert body["meta"]["total_results"] == count
    assert {p["status"] for p in body["data"]} == {"rejected", "pending"}


# ---------------------------------------------------------------- scenarios and the CSV


def test_seeded_state_holds_every_evidence_scenario(sandbox: SandboxServer) -> None:
    state = sandbox.state
    inventory = state.inventory
    pending = [p for p in state.portouts.values() if p.status == "pending"]

    def customer(po):
        return inventory.customers.get(po.customer_reference)

    legit = [
        p
        for p in pending
        if customer(p)
        and customer(p).pin
        and inventory.pin_matched(p)
        and p.end_user_name == customer(p).name
    ]
    assert legit
    refused = [
        p
        for p in state.portouts.values()
        if p.status == "rejected" and p.rejection_code == 1002 and inventory.pin_refused(p)
    ]
    by_numbers = Counter(tuple(p.phone_numbers) for p in refused)
    repeated, tries = by_numbers.most_common(1)[0]
    assert (
        tries >= 3
        and len({p.attempted_pin for p in refused if tuple(p.phone_numbers) == repeated}) >= 2
    )
    assert any(tuple(p.phone_numbers) == repeated for p in pending)
    newcomer = [p for p in pending if (p.carrier_name, p.spid) == NEW_CARRIER]
    assert len(newcomer) == 1
    assert sorted(newcomer[0].phone_numbers) == sorted(customer(newcomer[0]).numbers)
    assert all(
        (p.carrier_name, p.spid) != NEW_CARRIER
        for p in state.portouts.values()
        if p not in newcomer
    )
    assert any(
        customer(p)
        and p.service_address != customer(p).service_address
        and p.end_user_name != customer(p).name
        for p in pending
    )
    expected = [p for p in pending if customer(p) and "Churn ticket" in customer(p).notes]
    assert expected and expected[0].carrier_name in customer(expected[0]).notes
    orphans = [p for p in pending if p.customer_reference == ""]
    assert orphans and all(
        inventory.numbers[n].customer_reference is None for n in orphans[0].phone_numbers
    )
    bounced = [
        p for p in pending if any(c.body == BOUNCE_COMMENT for c in state.comments.get(p.id, ()))
    ]
    assert bounced
    statuses = [
        e.status for e in state.events.values() if e.portout_id == bounced[0].id and e.status
    ]
    assert statuses == ["pending", "rejected-pending", "pending"]


def test_scenarios_are_left_out_of_small_seeds() -> None:
    state = SandboxState()
    seed_state(state, 10, 1)
    assert len(state.portouts) == 10
    assert all((p.carrier_name, p.spid) != NEW_CARRIER for p in state.portouts.values())


def test_customers_csv_is_deterministic_whatever_the_clock(tmp_path) -> None:
    paths = []
    for offset in (0.0, 86400.0 * 3):
        server = SandboxServer(seed_count=60, seed=4)
        server.state.clock = lambda offset=offset: 1_800_000_000.0 + offset
        server.reset()
        path = tmp_path / f"customers-{offset}.csv"
        assert server.write_customers(str(path)) == len(server.state.inventory.customers)
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    with paths[0].open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    assert [r["customer_reference"] for r in rows] == sorted(r["customer_reference"] for r in rows)
    assert all(r["name"] and r["service_address"] and "@" in r["contact_email"] for r in rows)
    assert any("Churn ticket" in r["notes"] for r in rows)


def test_cli_writes_the_customers_csv_and_exits(tmp_path) -> None:
    path = tmp_path / "demo-customers.csv"
    done = subprocess.run(
        [sys.executable, "-m", "telnyx_sandbox", "--seed", "40", "--write-customers", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    rows = list(csv.DictReader(path.open(newline="")))
    assert f"Wrote {len(rows)} customers" in done.stdout and rows


# ---------------------------------------------------------------- traffic


def test_traffic_brings_new_pending_portouts_and_evidence_cases(sandbox: SandboxServer) -> None:
    traffic = TrafficGenerator(sandbox.state, interval=60, seed=3, pending_every=4)
    before = set(sandbox.state.portouts)
    quiet, longest = 0, 0
    results = []
    for _ in range(120):
        known = set(sandbox.state.portouts)
        results.append(traffic.step())
        new = [sandbox.state.portouts[p] for p in set(sandbox.state.portouts) - known]
        quiet = 0 if any(p.status == "pending" for p in new) else quiet + 1
        longest = max(longest, quiet)
    assert longest <= 4  # a new pending port-out at least every fifth step
    created = [sandbox.state.portouts[p] for p in set(sandbox.state.portouts) - before]
    kinds = Counter(r.split("(")[1].split(",")[0] for r in results if r and r.startswith("new"))
    assert {"legitimate", "wrong PIN", "name mismatch", "new carrier"} <= set(kinds)
    assert any(p.status == "rejected" and p.rejection_code == 1002 for p in created)
    numbers = sandbox.state.inventory.numbers
    assert all(n in numbers for p in created for n in p.phone_numbers)
