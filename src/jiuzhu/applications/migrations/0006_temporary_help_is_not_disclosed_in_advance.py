"""临时救助 is urgent: it is confirmed on decision, not after a week on a notice board
(counties that publish it afterwards list it in their monthly ledgers)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    kind = apps.get_model("applications", "AssistanceKind")
    kind.objects.filter(code="temporary", is_builtin=True).update(disclosure_days=0)


def backwards(apps: Any, schema_editor: Any) -> None:
    kind = apps.get_model("applications", "AssistanceKind")
    kind.objects.filter(code="temporary", is_builtin=True).update(disclosure_days=7)


class Migration(migrations.Migration):
    dependencies = [("applications", "0005_payments")]
    operations = [migrations.RunPython(forwards, backwards)]
