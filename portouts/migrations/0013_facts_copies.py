"""The gaining carrier and the outcome label copied onto the port-out facts (filled for
existing rows by two set-based UPDATEs), the period index covering them, an index of the
first alert (the headline), and the flags' join to the facts."""

import django.db.models.deletion
from django.db import migrations, models

FILL = [
    # one UPDATE ... FROM each (PostgreSQL, and SQLite from 3.33)
    """
    UPDATE portouts_portoutfacts SET carrier_name = p.carrier_name, spid = p.spid
    FROM portouts_portout AS p WHERE p.id = portouts_portoutfacts.portout_id
    """,
    """
    UPDATE portouts_portoutfacts SET outcome_label = o.label
    FROM portouts_portoutoutcome AS o WHERE o.portout_id = portouts_portoutfacts.portout_id
    """,
]


class Migration(migrations.Migration):
    dependencies = [
        ("portouts", "0012_pages_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="portoutfacts",
            name="carrier_name",
            field=models.CharField(
                blank=True, default="", help_text="The gaining carrier", max_length=255
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="portoutfacts",
            name="spid",
            field=models.CharField(
                blank=True, default="", help_text="The gaining carrier's SPID", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="portoutfacts",
            name="outcome_label",
            field=models.CharField(
                blank=True,
                choices=[
                    ("legitimate", "Legitimate"),
                    ("fraud", "Fraud attempt"),
                    ("customer_error", "Customer error"),
                    ("unknown", "Unknown"),
                ],
                default="",
                help_text="How it turned out",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.RemoveIndex(model_name="portoutfacts", name="facts_pending"),
        migrations.AddIndex(
            model_name="portoutfacts",
            index=models.Index(
                fields=["pending_at", "carrier_name", "spid", "outcome_label"],
                name="facts_pending",
            ),
        ),
        migrations.AddIndex(
            model_name="portoutfacts",
            index=models.Index(fields=["first_alert_at"], name="facts_alerted"),
        ),
        migrations.AddField(
            model_name="riskflag",
            name="facts",
            field=models.ForeignObject(
                from_fields=["portout"],
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="portouts.portoutfacts",
                to_fields=["portout"],
            ),
        ),
        # last: on PostgreSQL the UPDATEs leave deferred foreign-key checks pending, and
        # no index can be built in the transaction after them
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
    ]
