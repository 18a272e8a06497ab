"""What the public policy guide (一码通) needs besides the database: the questionnaire
"which policies might fit me", the ranking of policies by the answers, tap-to-call phone
numbers and the QR code. Pure functions: nothing here stores or logs anything.

The questionnaire is deliberately coarse (yes/no, no ages, no amounts, no names): it
points people to policies and phone numbers, it does not decide eligibility. The answers
live only in the request that carries them (docs/policies.md, "The public guide").
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import segno
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from jiuzhu.policies.models import GuideTag, Policy, Theme

# --- the questionnaire -----------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str  # the form field's name: the first tag's value
    text: str | Promise
    tags: tuple[GuideTag, ...]  # what a "yes" means


QUESTIONS: tuple[Question, ...] = (
    Question(
        GuideTag.LOW_INCOME,
        _("Is your family's income so low that daily life is hard?"),
        (GuideTag.LOW_INCOME,),
    ),
    Question(
        GuideTag.ELDERLY,
        _("Is anyone in your family 60 years old or older?"),
        (GuideTag.ELDERLY,),
    ),
    Question(
        GuideTag.DISABLED,
        _("Does anyone in your family have a disability?"),
        (GuideTag.DISABLED,),
    ),
    Question(
        GuideTag.SERIOUS_ILLNESS,
        _("Does anyone in your family have a serious or long-lasting illness?"),
        (GuideTag.SERIOUS_ILLNESS,),
    ),
    Question(
        GuideTag.CHILD,
        _("Is there a child under 18, or a child at school or university, in your family?"),
        (GuideTag.CHILD, GuideTag.STUDENT),
    ),
    Question(
        GuideTag.UNEMPLOYED,
        _("Is someone in your family who can work out of work?"),
        (GuideTag.UNEMPLOYED,),
    ),
    Question(
        GuideTag.HOUSING,
        _("Is your home unsafe, or do you have no home of your own?"),
        (GuideTag.HOUSING,),
    ),
    Question(
        GuideTag.EMERGENCY,
        _("Has your family met a sudden accident, disaster or very large expense?"),
        (GuideTag.EMERGENCY,),
    ),
    Question(
        GuideTag.LIVES_ALONE,
        _("Do you live alone, with no one to look after you?"),
        (GuideTag.LIVES_ALONE,),
    ),
)
YES = "yes"
NO = "no"


def answers_from(form: Mapping[str, str]) -> frozenset[str]:
    """The guide tags answered "yes". Anything else in the form is ignored."""
    tags: set[str] = set()
    for question in QUESTIONS:
        if form.get(question.key) == YES:
            tags.update(question.tags)
    return frozenset(tags)


@dataclass(frozen=True)
class Fit:
    policy: Policy
    fits: tuple[str, ...]  # the GuideTag values answered that the policy lists

    @property
    def score(self) -> int:
        return len(self.fits)


THEME_ORDER = {value: index for index, value in enumerate(Theme.values)}


def rank(policies: Iterable[Policy], answers: frozenset[str]) -> list[Fit]:
    """The policies whose guide tags meet the answers, most answers fitted first, then
    by theme and name as the guide lists them."""
    fits = []
    for policy in policies:
        matched = tuple(
            tag for tag in GuideTag.values if tag in answers and tag in policy.guide_tags
        )
        if matched:
            fits.append(Fit(policy, matched))
    fits.sort(key=lambda f: (-f.score, THEME_ORDER.get(f.policy.theme, 99), f.policy.name))
    return fits


def tag_labels(tags: Sequence[str]) -> list[str]:
    labels = dict(GuideTag.choices)
    return [str(labels[t]) for t in tags if t in labels]


# --- phone numbers -----------------------------------------------------------------------

# One or several numbers, separated by 、 , ， ; ； / or spaces. Each is a mobile
# (1[3-9] + 9 digits), a landline with its area code (0796-3612345, (0796)3612345 or
# 07963612345, optionally an extension: -801 or 转801), a five-digit public hotline such as
# 12345 or 12349, a 95xxx/96xxx service number, or a 400/800 number.
_SEPARATORS = re.compile(r"[、,，;；/\s]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(?:(0\d{2,3})|[(（](0\d{2,3})[)）])[-–]?(\d{7,8})(?:(?:[-–]|转)\d{1,6})?")
_OTHERS = (
    re.compile(r"1\d{4}"),  # 12345, 12349, 12355 …
    re.compile(r"9[56]\d{3,6}"),  # 95xxx, 96xxx
    re.compile(r"[48]00-?\d{3}-?\d{4}"),  # 400 / 800
)
PHONE_EXAMPLES = "0796-3612345, 13807960001, 12345"


@dataclass(frozen=True)
class PhoneNumber:
    display: str  # as the county wrote it
    tel: str  # the digits a tel: link dials (a landline's extension is left out)


def _parse_one(text: str) -> PhoneNumber | None:
    landline = _LANDLINE.fullmatch(text)
    if landline:
        area = landline.group(1) or landline.group(2)
        return PhoneNumber(display=text, tel=area + landline.group(3))
    if _MOBILE.fullmatch(text) or any(p.fullmatch(text) for p in _OTHERS):
        return PhoneNumber(display=text, tel=re.sub(r"\D", "", text))
    return None


def phone_numbers(text: str) -> list[PhoneNumber] | None:
    """The numbers in a policy's contact field, or None when any part is not a number a
    phone in China can call."""
    numbers = []
    for part in _SEPARATORS.split(text.strip()):
        if not part:
            continue
        number = _parse_one(part)
        if number is None:
            return None
        numbers.append(number)
    return numbers or None


# --- QR code -----------------------------------------------------------------------------

QR_ERROR = "m"  # 15 % of the code may be soiled or covered on a printed poster
QR_SCALE = 10  # pixels per module in the PNG
QR_BORDER = 4  # the quiet zone the standard asks for


def qr_png(url: str) -> bytes:
    """The guide's QR code as a PNG."""
    buffer = io.BytesIO()
    segno.make(url, error=QR_ERROR).save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buffer.getvalue()


def qr_svg(url: str) -> str:
    """The same code as inline SVG, for the printed poster (sharp at any size)."""
    return str(
        segno.make(url, error=QR_ERROR).svg_inline(
            scale=QR_SCALE, border=QR_BORDER, omitsize=True, title=url
        )
    )
