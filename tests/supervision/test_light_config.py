"""The county's supervision settings: validation, the audit of every change (old → new),
and that the run reads them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from jiuzhu.accounts.models import AuditEvent
from jiuzhu.supervision.light_selectors import config_of, thresholds_of
from jiuzhu.supervision.lights import DEFAULT_THRESHOLDS
from jiuzhu.supervision.models import SupervisionConfig
from jiuzhu.supervision.services.config import ConfigFields, config_update
from tests.conftest import COUNTY, TOWN, Personas
from tests.supervision.test_light_support import english

__all__ = ["english"]


def fields(**changes: Any) -> ConfigFields:
    bounds = {name: (str(b.green), str(b.red)) for name, b in DEFAULT_THRESHOLDS.bounds.items()}
    bounds.update(changes.pop("bounds", {}))
    values: dict[str, Any] = {
        "min_volume": "10",
        "revisit_rate": "0.05",
        "revisit_minimum": "20",
        "phone_minimum": "20",
        "rectification_days": "30",
    }
    values.update(changes)
    return ConfigFields(bounds=bounds, **values)


def test_defaults_without_a_stored_row(regions: None) -> None:
    config = config_of(COUNTY)
    assert config.pk is None
    assert thresholds_of(config) == DEFAULT_THRESHOLDS


def test_a_change_is_stored_merged_and_audited_old_to_new(personas: Personas) -> None:
    # when the county administrator raises the satisfaction bounds and the revisit rate
    config_update(
        actor=personas.county_admin,
        county_code=COUNTY,
        fields=fields(bounds={"satisfaction": ("4.6", "3.8")}, revisit_rate="0.08"),
    )
    # then
    config = SupervisionConfig.objects.get(region_id=COUNTY)
    thresholds = thresholds_of(config)
    assert thresholds.bounds["satisfaction"].green == Decimal("4.6")
    assert thresholds.bounds["satisfaction"].red == Decimal("3.8")
    assert thresholds.bounds["on_time_rate"] == DEFAULT_THRESHOLDS.bounds["on_time_rate"]
    assert config.revisit_rate == Decimal("0.0800")
    assert config.updated_by == personas.county_admin
    event = AuditEvent.objects.get(object_type="supervision.config")
    changes = event.detail["changes"]
    assert changes["satisfaction_green"] == ["4.5", "4.6"]
    assert changes["satisfaction_red"] == ["3.5", "3.8"]
    assert changes["revisit_rate"] == ["0.0500", "0.0800"]
    assert "on_time_rate_green" not in changes
    # and a second save with nothing changed is refused
    with pytest.raises(ValidationError):
        config_update(
            actor=personas.county_admin,
            county_code=COUNTY,
            fields=fields(bounds={"satisfaction": ("4.6", "3.8")}, revisit_rate="0.08"),
        )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"bounds": {"satisfaction": ("3.5", "3.5")}}, "satisfaction_green"),  # not better
        ({"bounds": {"satisfaction": ("3.4", "3.5")}}, "satisfaction_green"),  # worse
        ({"bounds": {"satisfaction": ("5.1", "3.5")}}, "satisfaction_green"),  # over 5
        ({"bounds": {"satisfaction": ("4.5", "0.9")}}, "satisfaction_red"),  # under 1
        ({"bounds": {"on_time_rate": ("90", "75")}}, "on_time_rate_green"),  # percent, not rate
        ({"bounds": {"on_time_rate": ("0.9", "-0.1")}}, "on_time_rate_red"),
        ({"bounds": {"complaint_rate": ("0.05", "0.02")}}, "complaint_rate_green"),  # lower better
        ({"bounds": {"no_show_rate": ("0.03", "0.03")}}, "no_show_rate_green"),
        ({"bounds": {"no_show_rate": ("abc", "0.03")}}, "no_show_rate_green"),
        ({"revisit_rate": "0"}, "revisit_rate"),
        ({"revisit_rate": "1.01"}, "revisit_rate"),
        ({"revisit_rate": "0.00001"}, "revisit_rate"),
        ({"min_volume": "0"}, "min_volume"),
        ({"rectification_days": "0"}, "rectification_days"),
        ({"revisit_minimum": "-1"}, "revisit_minimum"),
        ({"phone_minimum": "x"}, "phone_minimum"),
    ],
)
def test_invalid_settings_are_refused_by_field(
    personas: Personas, english: None, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        config_update(actor=personas.county_admin, county_code=COUNTY, fields=fields(**changes))
    assert field in refused.value.message_dict
    assert not SupervisionConfig.objects.exists()
    assert not AuditEvent.objects.filter(object_type="supervision.config").exists()


@pytest.mark.parametrize(
    ("changes"),
    [
        {"revisit_rate": "1"},  # the whole: allowed
        {"bounds": {"satisfaction": ("5", "1")}},
        {"bounds": {"on_time_rate": ("1", "0")}},
        {"bounds": {"complaint_rate": ("0", "1")}},
    ],
)
def test_the_edges_of_the_ranges_are_allowed(personas: Personas, changes: dict[str, Any]) -> None:
    config_update(actor=personas.county_admin, county_code=COUNTY, fields=fields(**changes))
    assert SupervisionConfig.objects.filter(region_id=COUNTY).exists()


def test_only_the_county_administrator_changes_the_settings(personas: Personas) -> None:
    for outsider in (personas.town_officer, personas.supervisor, personas.provider):
        with pytest.raises(PermissionDenied):
            config_update(actor=outsider, county_code=COUNTY, fields=fields())
    with pytest.raises(ValidationError):
        config_update(actor=personas.county_admin, county_code=TOWN, fields=fields())
