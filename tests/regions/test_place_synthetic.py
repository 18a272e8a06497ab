"""Demo seats for the synthetic places of a county (regions_place_synthetic)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from jiuzhu.regions.models import Level, Region
from jiuzhu.regions.services import XIAJIANG_SEAT, regions_place_synthetic

COUNTY = "360823"


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = (a[0] - b[0]) * 111.32
    dlon = (a[1] - b[1]) * 111.32 * math.cos(math.radians(a[0]))
    return math.hypot(dlat, dlon)


def _seats() -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {r.code: (r.lat, r.lon) for r in Region.objects.filter(code__startswith=COUNTY)}


@pytest.mark.django_db
def test_every_synthetic_village_gets_a_seat_near_the_county_and_real_rows_stay_empty(
    regions: None,
) -> None:
    # when
    written = regions_place_synthetic(county_code=COUNTY)
    # then every synthetic row has a seat, and only those were written
    synthetic = Region.objects.filter(code__startswith=COUNTY, is_synthetic=True)
    assert written == synthetic.count() > 0
    assert not synthetic.filter(lat__isnull=True).exists()
    real = Region.objects.filter(code__startswith=COUNTY, is_synthetic=False)
    assert not real.exclude(lat__isnull=True).exists()
    # within the county: a village is at most 20 + 4 km from the seat
    for village in synthetic:
        assert village.lat is not None and village.lon is not None
        assert _km((float(village.lat), float(village.lon)), XIAJIANG_SEAT) <= 24.5


@pytest.mark.django_db
def test_villages_of_a_town_cluster_and_towns_lie_apart(regions: None) -> None:
    # when
    regions_place_synthetic(county_code=COUNTY)
    # then two villages of one town are at most 8 km apart (each 0.5–4 km from the town)
    villages = list(Region.objects.filter(code__startswith=COUNTY, level=Level.VILLAGE))
    by_town: dict[str, list[tuple[float, float]]] = {}
    for v in villages:
        assert v.lat is not None and v.lon is not None
        by_town.setdefault(v.code[:9], []).append((float(v.lat), float(v.lon)))
    assert len(by_town) >= 2
    for points in by_town.values():
        assert all(_km(a, b) <= 8.0 for a in points for b in points)
    # and the towns' clusters are not all in one place
    centres = [
        (sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts))
        for pts in by_town.values()
    ]
    assert max(_km(a, b) for a in centres for b in centres) > 5.0


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_seats_and_another_seed_others(regions: None) -> None:
    # given
    regions_place_synthetic(county_code=COUNTY, seed=0)
    first = _seats()
    # when run again, and with another seed
    regions_place_synthetic(county_code=COUNTY, seed=0)
    again = _seats()
    regions_place_synthetic(county_code=COUNTY, seed=1)
    other = _seats()
    # then
    assert again == first
    assert other != first


@pytest.mark.django_db
def test_a_real_town_with_coordinates_anchors_its_villages_and_is_not_moved(
    regions: None,
) -> None:
    # given the real town 水边镇 with its (here invented) public coordinates
    Region.objects.filter(code="360823100").update(lat=Decimal("27.7"), lon=Decimal("115.2"))
    # when
    regions_place_synthetic(county_code=COUNTY)
    # then the town keeps them and its villages lie within 4 km of it
    town = Region.objects.get(code="360823100")
    assert (town.lat, town.lon) == (Decimal("27.700000"), Decimal("115.200000"))
    for village in Region.objects.filter(parent_id="360823100"):
        assert village.lat is not None and village.lon is not None
        assert _km((float(village.lat), float(village.lon)), (27.7, 115.2)) <= 4.05


@pytest.mark.django_db
def test_an_unknown_county_is_refused(regions: None) -> None:
    with pytest.raises(ValueError, match="999999"):
        regions_place_synthetic(county_code="999999")
