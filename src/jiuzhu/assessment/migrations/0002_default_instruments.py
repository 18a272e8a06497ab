"""The two default instruments, national, version 1: the family needs assessment (6
dimensions, 20 indicators) and the 6-item self-care assessment of 特困人员 (see
jiuzhu/assessment/defaults.py). Idempotent: a database that has them keeps them."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def install(apps: Any, schema_editor: Any) -> None:
    from jiuzhu.assessment.services import instruments_install_defaults

    instruments_install_defaults(
        instrument_model=apps.get_model("assessment", "Instrument"),
        version_model=apps.get_model("assessment", "InstrumentVersion"),
    )


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
