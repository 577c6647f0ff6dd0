from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("perfsuite_tasks", "0002_outbox")]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="owner",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
    ]
