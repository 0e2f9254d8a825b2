"""Room for the neutral status names: ``AWAITING_APPROVAL`` is 17 characters.

Rows keep their values; one written under Xero's names (``AUTHORISED``) reads as its neutral
name (``OPEN``).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    """Widen ``InvoiceSnapshotRow.status`` to 32 characters."""

    dependencies = [("ams_billing", "0001_initial")]  # noqa: RUF012

    operations = [  # noqa: RUF012
        migrations.AlterField(
            model_name="invoicesnapshotrow",
            name="status",
            field=models.CharField(max_length=32),
        ),
    ]
