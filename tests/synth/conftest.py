"""Fixtures of the synth tests: a small generated county, shared by a module."""

from __future__ import annotations

import pyarrow as pa
import pytest

from jiuzhu.regions.services import regions_load_demo_county
from jiuzhu.synth.population import generate_population

HOUSEHOLDS = 400
SEED = 7


@pytest.fixture(scope="module")
def population() -> dict[str, pa.Table]:
    return generate_population(households=HOUSEHOLDS, seed=SEED)


@pytest.fixture
def demo_regions(db: None) -> None:
    regions_load_demo_county()
