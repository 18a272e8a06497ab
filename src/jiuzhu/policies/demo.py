"""Demo content: the default library in the demo county and one matching pass."""

from __future__ import annotations

import datetime

from jiuzhu.policies.models import PolicyRun
from jiuzhu.policies.services.matching import policies_install_defaults, policies_match_run

COUNTY = "360823"


def demo_policies_seed(*, as_of: datetime.date) -> tuple[int, PolicyRun]:
    """Install the default library (what is there already stays) and run a pass."""
    added = policies_install_defaults(county_code=COUNTY)
    return added, policies_match_run(as_of=as_of)
