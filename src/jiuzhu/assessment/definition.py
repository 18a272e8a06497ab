"""An instrument's definition: the JSON one version stores, its validation and a diff.

Pure Python (no Django), so that the rules an instrument is checked against can be read
and tested on their own. The shape::

    {
      "scoring": {"method": "weighted"},            # or "count"
      "description": "…",                           # optional
      "scales": {                                   # answer scales shared by indicators
        "difficulty": [
          {"code": "0", "label": "无困难", "label_en": "no difficulty", "points": 0},
          {"code": "2", "label": "中度困难", "points": 2, "needs_help": true},
          …
        ]
      },
      "dimensions": [
        {"code": "living", "label": "生活保障", "label_en": "living", "weight": 1,
         "indicators": [
           {"code": "living_income", "label": "…", "weight": 1, "scale": "difficulty"},
           {"code": "…", "label": "…", "options": [ … ]}     # or options of its own
         ]}
      ],
      "tiers": [                                    # weighted: high → low by min_score
        {"code": "high", "label": "高", "colour": "red", "min_score": 60},
        …                                           # count: "min_count", "max_count"
      ]
    }

An option ``needs_help`` marks the indicator as one the household needs help with; an
option ``counted`` is what the ``count`` method counts (e.g. "unable"). Every option has
points, also under ``count`` (they are shown, and a county may switch methods).

Refusals are :class:`Problem` values whose ``message`` is an English msgid marked with
``gettext_noop`` and whose ``params`` fill it in: the caller translates them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

METHODS = ("weighted", "count")
COLOURS = ("red", "orange", "yellow", "green", "blue")
CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
OPTION_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")

_TOP_KEYS = {"scoring", "description", "scales", "dimensions", "tiers"}
_DIMENSION_KEYS = {"code", "label", "label_en", "weight", "indicators"}
_INDICATOR_KEYS = {"code", "label", "label_en", "weight", "scale", "options", "help"}
_OPTION_KEYS = {"code", "label", "label_en", "points", "needs_help", "counted"}
_TIER_KEYS = {"code", "label", "label_en", "colour", "min_score", "min_count", "max_count"}


def gettext_noop(message: str) -> str:
    """Marks a msgid for translation (``makemessages`` knows this name)."""
    return message


@dataclass(frozen=True)
class Problem:
    message: str  # English msgid, with %(name)s placeholders
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translate: Any = None) -> str:
        text = translate(self.message) if translate else self.message
        return str(text % self.params if self.params else text)


class DefinitionError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.render() for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    code: str
    label: str
    label_en: str
    points: Decimal
    needs_help: bool
    counted: bool


@dataclass(frozen=True)
class Indicator:
    code: str
    label: str
    label_en: str
    weight: Decimal  # the indicator's weight × its dimension's weight
    own_weight: Decimal
    dimension: str
    options: tuple[Option, ...]
    help: str = ""

    @property
    def max_points(self) -> Decimal:
        return max(o.points for o in self.options)

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    label_en: str
    weight: Decimal
    indicators: tuple[Indicator, ...]


@dataclass(frozen=True)
class Tier:
    code: str
    label: str
    label_en: str
    colour: str
    min_score: Decimal | None = None  # weighted
    min_count: int | None = None  # count
    max_count: int | None = None


@dataclass(frozen=True)
class Definition:
    method: str
    dimensions: tuple[Dimension, ...]
    tiers: tuple[Tier, ...]
    description: str = ""

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def indicator(self, code: str) -> Indicator | None:
        return next((i for i in self.indicators if i.code == code), None)

    def tier(self, code: str) -> Tier | None:
        return next((t for t in self.tiers if t.code == code), None)


# --- validation ------------------------------------------------------------------------


class _Checker:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, message: str, **params: Any) -> None:
        self.problems.append(Problem(message, params))

    def unknown_keys(self, obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
        for key in sorted(set(obj) - allowed):
            self.add(
                gettext_noop("Unknown field “%(field)s” in %(where)s."), field=key, where=where
            )

    def text(self, obj: Mapping[str, Any], key: str, where: str, *, required: bool) -> str:
        value = obj.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(gettext_noop("“%(field)s” of %(where)s must be text."), field=key, where=where)
            return ""
        value = value.strip()
        if required and not value:
            self.add(gettext_noop("%(where)s has no “%(field)s”."), field=key, where=where)
        return value

    def number(
        self, obj: Mapping[str, Any], key: str, where: str, *, default: Decimal | None = None
    ) -> Decimal | None:
        if key not in obj or obj[key] is None or obj[key] == "":
            return default
        raw = obj[key]
        if isinstance(raw, bool):
            raw = "x"
        try:
            value = Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            value = Decimal("NaN")
        if not value.is_finite():
            self.add(
                gettext_noop("“%(field)s” of %(where)s must be a number, not “%(value)s”."),
                field=key,
                where=where,
                value=raw,
            )
            return None
        return value

    def integer(self, obj: Mapping[str, Any], key: str, where: str) -> int | None:
        value = self.number(obj, key, where)
        if value is None:
            return None
        if value != value.to_integral_value():
            self.add(
                gettext_noop("“%(field)s” of %(where)s must be a whole number."),
                field=key,
                where=where,
            )
            return None
        return int(value)

    def flag(self, obj: Mapping[str, Any], key: str, where: str) -> bool:
        value = obj.get(key, False)
        if not isinstance(value, bool):
            self.add(
                gettext_noop("“%(field)s” of %(where)s must be true or false."),
                field=key,
                where=where,
            )
            return False
        return value


def _options(raw: Any, owner: str, check: _Checker) -> tuple[Option, ...] | None:
    if not isinstance(raw, list) or len(raw) < 2:
        check.add(gettext_noop("“%(owner)s” needs a list of at least two options."), owner=owner)
        return None
    options: list[Option] = []
    seen: set[str] = set()
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            check.add(
                gettext_noop("Option %(n)s of “%(owner)s” must be an object."), n=n, owner=owner
            )
            continue
        code = item.get("code")
        code = (
            str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
        )
        where = f"{owner}/{code or n}"
        check.unknown_keys(item, _OPTION_KEYS, where)
        if not OPTION_CODE.match(code):
            check.add(
                gettext_noop(
                    "Option %(n)s of “%(owner)s” needs a code of letters, digits, - or _ "
                    "(at most 20)."
                ),
                n=n,
                owner=owner,
            )
        elif code in seen:
            check.add(
                gettext_noop("Option code “%(code)s” is used twice in “%(owner)s”."),
                code=code,
                owner=owner,
            )
        seen.add(code)
        label = check.text(item, "label", where, required=True)
        if "points" not in item or item["points"] in (None, ""):
            check.add(
                gettext_noop("Option “%(option)s” of “%(owner)s” has no points."),
                option=code or n,
                owner=owner,
            )
            points = None
        else:
            points = check.number(item, "points", where)
            if points is not None and points < 0:
                check.add(
                    gettext_noop("Option “%(option)s” of “%(owner)s” has negative points."),
                    option=code or n,
                    owner=owner,
                )
        options.append(
            Option(
                code=code,
                label=label,
                label_en=check.text(item, "label_en", where, required=False),
                points=points if points is not None else Decimal(0),
                needs_help=check.flag(item, "needs_help", where),
                counted=check.flag(item, "counted", where),
            )
        )
    return tuple(options)


def validate(raw: Any) -> Definition:
    """The definition, parsed; :class:`DefinitionError` lists every problem found."""
    check = _Checker()
    if not isinstance(raw, dict):
        raise DefinitionError([Problem(gettext_noop("The definition must be a JSON object."))])
    check.unknown_keys(raw, _TOP_KEYS, "definition")

    scoring = raw.get("scoring")
    method = scoring.get("method") if isinstance(scoring, dict) else None
    if isinstance(scoring, dict):
        check.unknown_keys(scoring, {"method"}, "scoring")
    if method not in METHODS:
        check.add(
            gettext_noop("The scoring method must be one of %(choices)s."),
            choices=", ".join(METHODS),
        )
        method = "weighted"
    description = check.text(raw, "description", "definition", required=False)

    scales: dict[str, tuple[Option, ...]] = {}
    raw_scales = raw.get("scales", {})
    if not isinstance(raw_scales, dict):
        check.add(gettext_noop("“scales” must be an object of named answer scales."))
        raw_scales = {}
    for name, scale_options in raw_scales.items():
        if not CODE.match(str(name)):
            check.add(
                gettext_noop("Scale name “%(code)s” must be lower-case letters, digits and _."),
                code=name,
            )
        parsed = _options(scale_options, str(name), check)
        if parsed is not None:
            scales[str(name)] = parsed

    dimensions: list[Dimension] = []
    dimension_codes: set[str] = set()
    indicator_codes: set[str] = set()
    raw_dimensions = raw.get("dimensions")
    if not isinstance(raw_dimensions, list) or not raw_dimensions:
        check.add(gettext_noop("The instrument needs at least one dimension."))
        raw_dimensions = []
    for dn, item in enumerate(raw_dimensions, start=1):
        if not isinstance(item, dict):
            check.add(gettext_noop("Dimension %(n)s must be an object."), n=dn)
            continue
        dcode = _code(
            item,
            check,
            gettext_noop(
                "Dimension %(n)s needs a code of lower-case letters, digits and _ "
                "(starting with a letter, at most 40), not “%(value)s”."
            ),
            dn,
        )
        where = dcode or f"#{dn}"
        check.unknown_keys(item, _DIMENSION_KEYS, where)
        if dcode:
            if dcode in dimension_codes:
                check.add(gettext_noop("Dimension code “%(code)s” is used twice."), code=dcode)
            dimension_codes.add(dcode)
        dweight = _weight(item, where, check)
        indicators: list[Indicator] = []
        raw_indicators = item.get("indicators")
        if not isinstance(raw_indicators, list) or not raw_indicators:
            check.add(gettext_noop("Dimension “%(code)s” has no indicators."), code=where)
            raw_indicators = []
        for n, ind in enumerate(raw_indicators, start=1):
            if not isinstance(ind, dict):
                check.add(
                    gettext_noop("Indicator %(n)s of “%(owner)s” must be an object."),
                    n=n,
                    owner=where,
                )
                continue
            icode = _code(
                ind,
                check,
                gettext_noop(
                    "Indicator %(n)s of a dimension needs a code of lower-case letters, "
                    "digits and _ (starting with a letter, at most 40), not “%(value)s”."
                ),
                n,
            )
            iwhere = icode or f"{where}#{n}"
            check.unknown_keys(ind, _INDICATOR_KEYS, iwhere)
            if icode:
                if icode in indicator_codes:
                    check.add(gettext_noop("Indicator code “%(code)s” is used twice."), code=icode)
                indicator_codes.add(icode)
            iweight = _weight(ind, iwhere, check)
            options: tuple[Option, ...] | None = None
            if "options" in ind and "scale" in ind:
                check.add(
                    gettext_noop("Indicator “%(code)s” has both a scale and its own options."),
                    code=iwhere,
                )
            elif "options" in ind:
                options = _options(ind["options"], iwhere, check)
            else:
                scale = ind.get("scale")
                if not isinstance(scale, str) or scale not in raw_scales:
                    check.add(
                        gettext_noop(
                            "Indicator “%(code)s” names no known answer scale (“%(scale)s”)."
                        ),
                        code=iwhere,
                        scale=scale or "",
                    )
                else:
                    options = scales.get(scale)
            if options:
                if method == "weighted" and max(o.points for o in options) <= 0:
                    check.add(
                        gettext_noop("Indicator “%(code)s”: some option must score above 0."),
                        code=iwhere,
                    )
                if method == "count" and not any(o.counted for o in options):
                    check.add(
                        gettext_noop(
                            "Indicator “%(code)s”: under the count method one option must be "
                            "marked “counted”."
                        ),
                        code=iwhere,
                    )
            indicators.append(
                Indicator(
                    code=icode,
                    label=check.text(ind, "label", iwhere, required=True),
                    label_en=check.text(ind, "label_en", iwhere, required=False),
                    weight=(iweight or Decimal(1)) * (dweight or Decimal(1)),
                    own_weight=iweight or Decimal(1),
                    dimension=dcode,
                    options=options or (),
                    help=check.text(ind, "help", iwhere, required=False),
                )
            )
        dimensions.append(
            Dimension(
                code=dcode,
                label=check.text(item, "label", where, required=True),
                label_en=check.text(item, "label_en", where, required=False),
                weight=dweight or Decimal(1),
                indicators=tuple(indicators),
            )
        )

    tiers = _tiers(raw.get("tiers"), method, len(indicator_codes), check)
    if check.problems:
        raise DefinitionError(check.problems)
    return Definition(
        method=method, dimensions=tuple(dimensions), tiers=tiers, description=description
    )


def _code(obj: Mapping[str, Any], check: _Checker, message: str, n: int) -> str:
    code = obj.get("code")
    if not isinstance(code, str) or not CODE.match(code):
        check.add(message, n=n, value=code if isinstance(code, str) else "")
        return ""
    return code


def _weight(obj: Mapping[str, Any], where: str, check: _Checker) -> Decimal | None:
    weight = check.number(obj, "weight", where, default=Decimal(1))
    if weight is not None and weight <= 0:
        check.add(
            gettext_noop("The weight of “%(code)s” must be greater than 0 (it is %(value)s)."),
            code=where,
            value=obj.get("weight"),
        )
        return None
    return weight


def _tiers(raw: Any, method: str, indicators: int, check: _Checker) -> tuple[Tier, ...]:
    if not isinstance(raw, list) or not raw:
        check.add(gettext_noop("The instrument needs at least one tier."))
        return ()
    tiers: list[Tier] = []
    codes: set[str] = set()
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            check.add(gettext_noop("Tier %(n)s must be an object."), n=n)
            continue
        code = _code(
            item,
            check,
            gettext_noop(
                "Tier %(n)s needs a code of lower-case letters, digits and _ "
                "(starting with a letter, at most 40), not “%(value)s”."
            ),
            n,
        )
        where = code or f"#{n}"
        check.unknown_keys(item, _TIER_KEYS, where)
        if code:
            if code in codes:
                check.add(gettext_noop("Tier code “%(code)s” is used twice."), code=code)
            codes.add(code)
        colour = item.get("colour")
        if not colour:
            check.add(
                gettext_noop("Tier “%(code)s” has no colour; choose one of %(choices)s."),
                code=where,
                choices=", ".join(COLOURS),
            )
        elif colour not in COLOURS:
            check.add(
                gettext_noop("Tier “%(code)s”: colour “%(colour)s” is not one of %(choices)s."),
                code=where,
                colour=colour,
                choices=", ".join(COLOURS),
            )
        tier = Tier(
            code=code,
            label=check.text(item, "label", where, required=True),
            label_en=check.text(item, "label_en", where, required=False),
            colour=str(colour or ""),
        )
        if method == "weighted":
            if item.get("min_score") in (None, ""):
                check.add(gettext_noop("Tier “%(code)s” has no cut-off (min_score)."), code=where)
                continue
            score = check.number(item, "min_score", where)
            if score is not None and not Decimal(0) <= score <= Decimal(100):
                check.add(
                    gettext_noop("The cut-off of tier “%(code)s” must be between 0 and 100."),
                    code=where,
                )
            tier = Tier(**{**tier.__dict__, "min_score": score})
        else:
            low = check.integer(item, "min_count", where)
            high = check.integer(item, "max_count", where)
            if low is None or high is None:
                check.add(
                    gettext_noop("Tier “%(code)s” needs min_count and max_count."), code=where
                )
                continue
            if low > high:
                check.add(
                    gettext_noop("Tier “%(code)s”: min_count is above max_count."), code=where
                )
            tier = Tier(**{**tier.__dict__, "min_count": low, "max_count": high})
        tiers.append(tier)
    if method == "weighted":
        scored = [t for t in tiers if t.min_score is not None]
        for before, after in pairwise(scored):
            assert before.min_score is not None and after.min_score is not None
            if after.min_score >= before.min_score:
                check.add(
                    gettext_noop(
                        "The cut-offs must go down from the first tier to the last: "
                        "“%(code)s” (%(value)s) is not below “%(previous)s” (%(previous_value)s)."
                    ),
                    code=after.code,
                    value=after.min_score,
                    previous=before.code,
                    previous_value=before.min_score,
                )
        if scored and scored[-1].min_score not in (None, Decimal(0)):
            check.add(
                gettext_noop("The last tier's cut-off must be 0, so that every score has a tier.")
            )
    else:
        covered: dict[int, str] = {}
        for tier in tiers:
            assert tier.min_count is not None and tier.max_count is not None
            for count in range(max(tier.min_count, 0), min(tier.max_count, indicators) + 1):
                if count in covered:
                    check.add(
                        gettext_noop("Tiers “%(a)s” and “%(b)s” both cover the count %(n)s."),
                        a=covered[count],
                        b=tier.code,
                        n=count,
                    )
                covered.setdefault(count, tier.code)
        missing = [n for n in range(indicators + 1) if n not in covered]
        if missing and tiers:
            check.add(
                gettext_noop("No tier covers the count(s) %(counts)s."),
                counts=", ".join(str(n) for n in missing),
            )
    return tuple(tiers)


# --- diff -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One difference between two versions. ``field`` is "" for an added or removed
    entity (then ``old`` or ``new`` holds its label)."""

    entity: str  # scoring | dimension | indicator | option | tier
    code: str
    field: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        if self.field:
            return "changed"
        return "added" if self.old is None else "removed"


def _flatten(d: Definition) -> dict[tuple[str, str], dict[str, Any]]:
    rows: dict[tuple[str, str], dict[str, Any]] = {
        ("scoring", ""): {"method": d.method, "description": d.description}
    }
    for dim in d.dimensions:
        rows[("dimension", dim.code)] = {
            "label": dim.label,
            "label_en": dim.label_en,
            "weight": dim.weight,
        }
        for ind in dim.indicators:
            rows[("indicator", ind.code)] = {
                "label": ind.label,
                "label_en": ind.label_en,
                "weight": ind.own_weight,
                "dimension": ind.dimension,
            }
            for opt in ind.options:
                rows[("option", f"{ind.code} / {opt.code}")] = {
                    "label": opt.label,
                    "label_en": opt.label_en,
                    "points": opt.points,
                    "needs_help": opt.needs_help,
                    "counted": opt.counted,
                }
    for tier in d.tiers:
        rows[("tier", tier.code)] = {
            "label": tier.label,
            "label_en": tier.label_en,
            "colour": tier.colour,
            "min_score": tier.min_score,
            "min_count": tier.min_count,
            "max_count": tier.max_count,
        }
    return rows


def diff(old: Definition, new: Definition) -> list[Change]:
    """What changed from ``old`` to ``new``, in the order of the new definition (removed
    entities last). Options of an added or removed indicator are not listed again."""
    before, after = _flatten(old), _flatten(new)
    changes: list[Change] = []
    added_indicators = {code for (entity, code) in after if entity == "indicator"} - {
        code for (entity, code) in before if entity == "indicator"
    }
    removed_indicators = {code for (entity, code) in before if entity == "indicator"} - {
        code for (entity, code) in after if entity == "indicator"
    }

    def owner_changed(entity: str, code: str, owners: set[str]) -> bool:
        return entity == "option" and code.split(" / ", 1)[0] in owners

    for key, values in after.items():
        entity, code = key
        if key not in before:
            if not owner_changed(entity, code, added_indicators):
                changes.append(Change(entity, code, "", None, values.get("label", "")))
            continue
        for name, value in values.items():
            if before[key].get(name) != value:
                changes.append(Change(entity, code, name, before[key].get(name), value))
    for key, values in before.items():
        entity, code = key
        if key not in after and not owner_changed(entity, code, removed_indicators):
            changes.append(Change(entity, code, "", values.get("label", ""), None))
    return changes
