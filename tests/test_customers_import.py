"""Customer records from CSV: preview, per-row errors, all or nothing (service, command, admin)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from portouts.evidence.customers import customers_import
from portouts.models import Customer

pytestmark = pytest.mark.django_db

HEADER = (
    "account_number,name,service_address,city,state,zip,contact_email,contact_phone,"
    "customer_reference,notes\n"
)
GOOD = HEADER + (
    "A-100,Acme Inc.,100 Main St,Chicago,IL,60601,ops@acme.example,+13125550100,acme,\n"
    'A-200,Zenith Dental,"2 Elm Ave, Suite 4",Austin,TX,73301,desk@zenith.example,'
    "+15125550199,zenith,VIP\n"
)


def test_a_good_file_is_previewed_without_writing_then_imported():
    preview = customers_import(GOOD, dry_run=True)
    assert (preview.ok, preview.rows, preview.new, preview.imported) == (True, 2, 2, False)
    assert not Customer.objects.exists()

    report = customers_import(GOOD)
    assert (report.ok, report.new, report.imported) == (True, 2, True)
    zenith = Customer.objects.get(account_number="A-200")
    assert (zenith.service_address, zenith.customer_reference, zenith.notes) == (
        "2 Elm Ave, Suite 4",
        "zenith",
        "VIP",
    )


def test_importing_again_updates_by_account_number_and_reports_unchanged_rows():
    customers_import(GOOD)
    changed = GOOD.replace("Acme Inc.", "Acme Incorporated")
    report = customers_import(changed)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 1)
    assert Customer.objects.get(account_number="A-100").name == "Acme Incorporated"
    assert Customer.objects.count() == 2


def test_freeze_dates_are_read_and_a_bad_one_is_refused():
    text = "account_number,name,portout_freeze_until\nA-1,Acme,2027-01-31\n"
    assert customers_import(text).ok
    assert Customer.objects.get().portout_freeze_until == date(2027, 1, 31)
    bad = customers_import("account_number,name,portout_freeze_until\nA-2,Beta,31/31/2027\n")
    assert not bad.ok and bad.errors[0].startswith("Row 1: portout_freeze_until")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A-3,Gamma,,,,,not-an-email,,,", "Row 2: contact_email: Enter a valid email address."),
        ("A-3,Gamma,,,,,,312-555-0100,,", "Row 2: contact_phone: 312-555-0100 is not a phone"),
        ("A-3,Gamma,,,,,,+1312,,", "Row 2: contact_phone: +1312 is not a phone number"),
        ("A-1,Gamma,,,,,,,,", "Row 2: account_number: A-1 is already on row 1 of this file."),
        ("A-3,Gamma,,,,,,,acme,", "Row 2: customer_reference: acme is already on row 1"),
        (",Gamma,,,,,,,,", "Row 2: account_number: This field cannot be blank."),
    ],
)
def test_a_bad_row_is_reported_by_number_and_nothing_is_imported(row, expected):
    text = HEADER + "A-1,Acme,,,,,ok@acme.example,+13125550100,acme,\n" + row + "\n"
    report = customers_import(text)
    assert not report.ok and not report.imported
    assert any(e.startswith(expected) for e in report.errors), report.errors
    assert not Customer.objects.exists()  # the good first row was not imported either


def test_every_bad_row_is_listed_at_once():
    text = HEADER + "A-1,Acme,,,,,bad,,,\nA-1,Beta,,,,,,,,\nA-3,Gamma,,,,,,+1,,\nA-4,Ok,,,,,,,,\n"
    report = customers_import(text)
    assert [e.split(":")[:2] for e in report.errors] == [
        ["Row 1", " contact_email"],
        ["Row 2", " account_number"],
        ["Row 3", " contact_phone"],
    ]
    assert not Customer.objects.exists()


def test_a_reference_another_customer_holds_is_refused():
    customers_import("account_number,name,customer_reference\nA-1,Acme,acme\n")
    report = customers_import("account_number,name,customer_reference\nB-1,Other,acme\n")
    assert report.errors == ["Row 1: Another customer already has this customer reference."]
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("account_number,name,fax\nA-1,Acme,1\n", "The file has unknown column(s) 'fax'."),
        ("account_number,name,name\nA-1,Acme,Acme\n", "The file has repeated column(s) name."),
        ("name,city\nAcme,Chicago\n", "The file has missing column(s) account_number."),
        ("", "The file is empty"),
    ],
)
def test_a_file_with_wrong_columns_is_refused_whole(text, expected):
    report = customers_import(text)
    assert not report.ok
    assert report.errors[0].startswith(expected), report.errors
    assert len(report.errors) == 1
    assert not Customer.objects.exists()


def test_a_byte_order_mark_and_spaces_in_the_header_are_accepted():
    report = customers_import("\ufeffaccount_number , name\nA-1,Acme\n")
    assert report.ok, report.errors
    assert Customer.objects.get().name == "Acme"


def test_the_command_imports_or_refuses_with_the_report(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text(GOOD)
    out = io.StringIO()
    call_command("import_customers", str(path), "--dry-run", stdout=out)
    assert "Would import 2 row(s)" in out.getvalue() and not Customer.objects.exists()
    call_command("import_customers", str(path), stdout=out)
    assert Customer.objects.count() == 2

    path.write_text(HEADER + "C-1,Bad,,,,,nope,,,\n")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("import_customers", str(path), stderr=err)
    assert "Row 1: contact_email" in err.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_customers", str(tmp_path / "missing.csv"))


def test_the_admin_previews_an_import_and_shows_row_errors(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    url = reverse("admin:portouts_customer_import")
    upload = io.BytesIO((HEADER + "C-1,Bad,,,,,nope,,,\n").encode())
    upload.name = "customers.csv"
    response = client.post(url, {"import_file": upload, "format": "0"})
    assert response.status_code == 200
    assert b"Enter a valid email address" in response.content
    assert b"Confirm import" not in response.content
    assert not Customer.objects.exists()

    upload = io.BytesIO(GOOD.encode())
    upload.name = "customers.csv"
    response = client.post(url, {"import_file": upload, "format": "0"})
    assert b"Confirm import" in response.content
    assert not Customer.objects.exists()  # a preview writes nothing

    confirm = response.context["confirm_form"]
    fields = {name: confirm[name].value() for name in confirm.fields}
    done = client.post(reverse("admin:portouts_customer_process_import"), fields)
    assert done.status_code == 302
    assert set(Customer.objects.values_list("account_number", flat=True)) == {"A-100", "A-200"}


def test_setup_demo_imports_the_sandbox_customers_when_written(tmp_path, settings):
    settings.VAR_DIR = tmp_path
    settings.DEBUG = True
    (tmp_path / "demo-customers.csv").write_text(GOOD)
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    assert "Imported 2 row(s)" in out.getvalue()
    assert Customer.objects.count() == 2
