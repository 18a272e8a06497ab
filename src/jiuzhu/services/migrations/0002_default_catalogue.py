"""The default service catalogue (47 items from the pilots' reports, each with its
standard procedure) and the two default entitlement rules (Dongsheng's 1 000 yuan a year
in stages of 40 / 40 / 20 %; Licang's 45 / 60 hours of home care a month). The data are in
jiuzhu/services/defaults.py; ``install`` adds only what is missing, so it is safe to run
on a database that has them already (and `services.catalogue.defaults_install` runs the
same code)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    from jiuzhu.services.defaults import install

    install(
        apps.get_model("services", "ServiceItem"),
        apps.get_model("services", "EntitlementRule"),
        apps.get_model("services", "ConfigRevision"),
    )


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
