"""The GIN indexes the demo's user search uses on PostgreSQL (nothing on SQLite)."""

from django.conf import settings
from django.db import migrations

from perfsuite.query_opt.operations import CreateSearchIndexes


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("shop", "0001_initial"),
    ]

    operations = [CreateSearchIndexes(settings.AUTH_USER_MODEL)]
