"""The default policy library (``policies/library/<code>.yaml``), read without Django.

One file per policy: the texts the guide shows, the guide tags, the enrolment category
that means "already has it", the kind of assistance an application would be for, and the
eligibility rule (SQL, a header comment saying what it finds). The benchmark reads the
same files; ``jiuzhu policies install-defaults`` puts them into a county's library.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from jiuzhu.engine.eligibility import EligibilityRule, validate_rule_sql
from jiuzhu.engine.rules import RuleError

LIBRARY = Path(__file__).parent / "library"
CODE = re.compile(r"^[a-z][a-z0-9_]{2,59}$")
TEXT_FIELDS = (
    "name",
    "department",
    "theme",
    "summary",
    "conditions",
    "benefit",
    "how_to_apply",
    "phone",
)


@dataclass(frozen=True)
class DefaultPolicy:
    code: str
    name: str
    department: str
    theme: str
    summary: str
    conditions: str
    benefit: str
    how_to_apply: str
    phone: str
    guide_tags: tuple[str, ...] = ()
    enrolment_category: str = ""
    assistance_kind: str = ""
    rule: str = ""

    def eligibility_rule(self, region_prefix: str = "") -> EligibilityRule:
        return EligibilityRule(
            policy=self.code,
            version=1,
            sql=self.rule,
            enrolment_category=self.enrolment_category,
            region_prefix=region_prefix,
        )


def load_default(path: Path) -> DefaultPolicy:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise RuleError(f"{path.name}: must be a mapping")
    code = str(raw.get("code", ""))
    if not CODE.match(code) or path.stem != code:
        raise RuleError(f"{path.name}: code must be snake_case and the file name")
    missing = [f for f in TEXT_FIELDS if not str(raw.get(f, "")).strip()]
    if missing:
        raise RuleError(f"{path.name}: missing {', '.join(missing)}")
    rule = str(raw.get("rule") or "")
    if rule.strip():
        validate_rule_sql(rule, path.name)
    texts = {f: str(raw[f]).strip() for f in TEXT_FIELDS}
    return DefaultPolicy(
        code=code,
        name=texts["name"],
        department=texts["department"],
        theme=texts["theme"],
        summary=texts["summary"],
        conditions=texts["conditions"],
        benefit=texts["benefit"],
        how_to_apply=texts["how_to_apply"],
        phone=texts["phone"],
        guide_tags=tuple(raw.get("guide_tags") or ()),
        enrolment_category=str(raw.get("enrolment_category") or ""),
        assistance_kind=str(raw.get("assistance_kind") or ""),
        rule=rule,
    )


def default_library(directory: Path = LIBRARY) -> list[DefaultPolicy]:
    """Every default policy, validated, in file-name order."""
    return [load_default(path) for path in sorted(directory.glob("*.yaml"))]
