"""The public policy guide (一码通): what it lists, the questionnaire that stores and leaks
nothing, the QR code and the poster. No login anywhere."""

from __future__ import annotations

import datetime
import io
import logging
import re
import struct
import zlib
from typing import Any

import pytest
import segno
from django.apps import apps
from django.test import Client
from django.utils import timezone, translation

from jiuzhu.policies.guide import QR_BORDER, QR_ERROR, QR_SCALE, QUESTIONS
from jiuzhu.policies.models import GuideTag, Policy, Theme
from jiuzhu.policies.services.library import policy_create, policy_set_active
from jiuzhu.regions.models import Level, Region
from tests.conftest import COUNTY, ID_HEAD, Family, Personas
from tests.policies.test_library import OTHER_COUNTY, create, fields, other_county

GUIDE = f"/guide/{COUNTY}/"
NOTHING_STORED = (
    "Nothing you answer is stored: not saved, not sent to anyone, and gone when you close "
    "this page. We do not ask your name."
)
NOTHING_WAS_STORED = (
    "Nothing you answered has been stored. This list is only a pointer: whether you can get "
    "a policy is decided when you apply. Call the number to ask."
)


def zh(msgid: str) -> str:
    """The text as the (Chinese by default) page shows it, before and after translation."""
    with translation.override("zh-hans"):
        return translation.gettext(msgid)


def _policy(code: str, **overrides: Any) -> Policy:
    return policy_create(
        actor=None, region_code=COUNTY, code=code, fields=fields(**overrides), reason="test"
    )


@pytest.fixture
def library(personas: Personas) -> dict[str, Policy]:
    """What the guide of 峡江县 must show and what it must not."""
    today = timezone.localdate()
    shown = {
        "dibao": _policy(
            "dibao",
            name="最低生活保障",
            theme=Theme.BASIC_LIVING,
            phone="0796-3612345",
            guide_tags=[GuideTag.LOW_INCOME, GuideTag.DISABLED, GuideTag.SERIOUS_ILLNESS],
        ),
        "gaoling": _policy(
            "gaoling",
            name="高龄津贴",
            theme=Theme.ELDERLY,
            phone="13807961234",
            guide_tags=[GuideTag.ELDERLY],
            valid_from=today - datetime.timedelta(days=30),
            valid_until=today,
        ),
        "zizhu": _policy(
            "zizhu",
            name="困难学生资助",
            theme=Theme.EDUCATION,
            phone="12345",
            guide_tags=[GuideTag.STUDENT, GuideTag.LOW_INCOME],
        ),
        "national": policy_create(
            actor=None,
            region_code=None,
            code="linshi",
            fields=fields(
                name="临时救助",
                theme=Theme.EMERGENCY,
                phone="12349",
                guide_tags=[GuideTag.EMERGENCY, GuideTag.LOW_INCOME],
            ),
        ),
    }
    retired = _policy("retired", name="已废止的补贴")
    policy_set_active(actor=None, policy=retired, active=False)
    other_county()
    hidden = {
        "retired": retired,
        "private": _policy("private", name="内部掌握的政策", is_public=False),
        "expired": _policy(
            "expired", name="过期的补贴", valid_until=today - datetime.timedelta(days=1)
        ),
        "future": _policy(
            "future", name="明年的补贴", valid_from=today + datetime.timedelta(days=1)
        ),
        "elsewhere": policy_create(
            actor=None,
            region_code=OTHER_COUNTY,
            code="xingan",
            fields=fields(name="新干县的补贴"),
        ),
    }
    return {**shown, **{f"hidden_{k}": v for k, v in hidden.items()}}


def test_the_guide_lists_only_active_public_valid_policies_of_the_county_and_national(
    library: dict[str, Policy],
) -> None:
    # when
    response = Client().get(GUIDE)
    # then
    assert response.status_code == 200
    page = response.content.decode()
    for key, policy in library.items():
        assert (policy.name in page) is (not key.startswith("hidden_")), policy.name
    # by theme, with conditions and a phone to tap
    assert 'id="basic_living"' in page and 'id="elderly"' in page and 'id="emergency"' in page
    assert 'href="tel:07963612345"' in page and 'href="tel:12349"' in page
    assert "本县户籍，年满80周岁。" in page  # conditions in words
    assert f'href="/apply/{COUNTY}/"' in page  # the applicant's own form
    assert "Set-Cookie" not in response.headers


def test_a_page_per_policy(library: dict[str, Policy]) -> None:
    page = Client().get(f"{GUIDE}p/gaoling/")
    assert page.status_code == 200
    assert "高龄津贴" in page.content.decode() and 'href="tel:13807961234"' in page.content.decode()
    assert Client().get(f"{GUIDE}p/linshi/").status_code == 200  # national
    for hidden in ("retired", "private", "expired", "future", "xingan", "nothing"):
        assert Client().get(f"{GUIDE}p/{hidden}/").status_code == 404, hidden


def test_unknown_county_is_404_and_an_empty_county_is_friendly(regions: None) -> None:
    for code in ("999999", "360823100", "36", "abc"):
        assert Client().get(f"/guide/{code}/").status_code == 404, code
    Region.objects.create(code="360825", name="永丰县", level=Level.COUNTY, parent_id="3608")
    page = Client().get("/guide/360825/")
    assert page.status_code == 200
    assert "永丰县" in page.content.decode() and 'class="note"' in page.content.decode()


def test_the_guide_is_large_print_and_needs_no_login(library: dict[str, Policy]) -> None:
    page = Client().get(GUIDE).content.decode()
    size = re.search(r":root \{ font-size: (\d+)px", page)
    assert size is not None and int(size.group(1)) >= 20
    assert 'name="viewport"' in page
    assert "csrfmiddlewaretoken" not in page and "X-CSRFToken" not in page


# --- the questionnaire ---------------------------------------------------------------------


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


ANSWERS = {
    GuideTag.LOW_INCOME.value: "yes",
    GuideTag.CHILD.value: "yes",
    GuideTag.ELDERLY.value: "no",
    GuideTag.EMERGENCY.value: "no",
}


def test_the_questionnaire_has_six_to_nine_yes_no_questions_and_says_nothing_is_stored(
    regions: None,
) -> None:
    response = Client().get(f"{GUIDE}check/")
    page = response.content.decode()
    assert 6 <= len(QUESTIONS) <= 9
    assert page.count('value="yes"') == len(QUESTIONS)
    assert 'method="post"' in page
    assert zh(NOTHING_STORED) in page
    assert "no-store" in response["Cache-Control"]
    tags = {tag for q in QUESTIONS for tag in q.tags}
    assert tags == set(GuideTag.values)  # every tag can be reached


def test_the_answer_ranks_policies_by_how_many_answers_they_fit(
    library: dict[str, Policy],
) -> None:
    # when
    page = Client().post(f"{GUIDE}check/", ANSWERS).content.decode()
    # then: 困难学生资助 fits low income and a child at school (2), the others one
    positions = {
        name: page.find(name) for name in ("困难学生资助", "最低生活保障", "临时救助", "高龄津贴")
    }
    assert positions["困难学生资助"] != -1
    assert positions["困难学生资助"] < positions["最低生活保障"]
    assert positions["困难学生资助"] < positions["临时救助"]
    assert positions["高龄津贴"] == -1  # answered "no"
    assert "已废止的补贴" not in page and "新干县的补贴" not in page
    assert 'href="tel:07963612345"' in page and 'href="tel:12349"' in page


def test_the_questionnaire_stores_and_leaks_nothing(
    library: dict[str, Policy], caplog: pytest.LogCaptureFixture, settings: Any
) -> None:
    # given: a browser that enforces CSRF like a real one, and every table counted
    client = Client(enforce_csrf_checks=True)
    before = _row_counts()
    caplog.set_level(logging.DEBUG)
    # when
    response = client.post(f"{GUIDE}check/", ANSWERS)
    # then: answered, not redirected (the answers never travel in a URL) …
    assert response.status_code == 200
    assert "Location" not in response.headers
    # … nothing written anywhere, no cookie, no session …
    assert _row_counts() == before
    assert "Set-Cookie" not in response.headers
    assert not response.cookies and not client.cookies
    assert settings.SESSION_COOKIE_NAME not in client.cookies  # no session was started
    # … not cached by the browser or a proxy …
    assert "no-store" in response["Cache-Control"]
    # … no answers in any link of the page …
    page = response.content.decode()
    for url in re.findall(r'(?:href|action|src)="([^"]*)"', page):
        assert "?" not in url and "yes" not in url and "low_income" not in url, url
    # … and no log line about them
    for record in caplog.records:
        assert "low_income" not in record.getMessage() and "yes" not in record.getMessage()
    assert zh(NOTHING_WAS_STORED) in page


def test_no_answer_and_no_fit_are_friendly(library: dict[str, Policy]) -> None:
    page = Client().post(f"{GUIDE}check/", {}).content.decode()
    assert (
        zh(
            "You did not answer yes to any question. See all policies of the guide, or call "
            "the hotline below."
        )
        in page
    )
    only_alone = Client().post(f"{GUIDE}check/", {"lives_alone": "yes"}).content.decode()
    assert (
        zh(
            "No policy in this guide fits your answers. Please call the hotline below: there "
            "may still be help for you."
        )
        in only_alone
    )


def test_the_guide_pages_show_no_personal_data(library: dict[str, Policy], family: Family) -> None:
    # given: a household with names, an ID and a phone in the same county
    secrets = ["王建国", "李秀英", "王小明", ID_HEAD, "13807960001", family.household.number]
    pages = [
        Client().get(GUIDE),
        Client().get(f"{GUIDE}p/dibao/"),
        Client().get(f"{GUIDE}check/"),
        Client().post(f"{GUIDE}check/", {q.key: "yes" for q in QUESTIONS}),
        Client().get(f"{GUIDE}poster/"),
    ]
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, secret


# --- QR code and poster -------------------------------------------------------------------


def _png_pixels(data: bytes) -> list[list[int]]:
    """A small PNG reader (greyscale, bit depth 1, no interlace) for the test."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(idat)
    stride = (width + 7) // 8
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - 1] if i else 0
            up, up_left = previous[i], previous[i - 1] if i else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                nearest = min(
                    (abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - up_left), 2, up_left)
                )
                line[i] = (line[i] + nearest[2]) & 0xFF
        rows.append([(line[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = line
    return rows


def test_the_qr_png_is_the_guides_url(regions: None) -> None:
    # when
    response = Client().get(f"{GUIDE}qr.png")
    # then
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    data = response.content
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    url = f"http://testserver{GUIDE}"
    expected = segno.make(url, error=QR_ERROR)
    buffer = io.BytesIO()
    expected.save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER)
    assert data == buffer.getvalue()
    # the PNG's modules are exactly the code segno makes of the guide's URL
    pixels = _png_pixels(data)
    size = len(expected.matrix)
    assert len(pixels) == (size + 2 * QR_BORDER) * QR_SCALE
    modules = [
        [
            1
            - pixels[(QR_BORDER + y) * QR_SCALE + QR_SCALE // 2][
                (QR_BORDER + x) * QR_SCALE + QR_SCALE // 2
            ]
            for x in range(size)
        ]
        for y in range(size)
    ]
    assert modules == [[int(bool(v)) for v in row] for row in expected.matrix]
    # and not the code of another address
    other = segno.make(f"http://testserver/guide/{OTHER_COUNTY}/", error=QR_ERROR)
    assert modules != [[int(bool(v)) for v in row] for row in other.matrix]
    assert Client().get("/guide/999999/qr.png").status_code == 404


def test_the_poster_renders_with_the_qr_themes_and_hotline(
    library: dict[str, Policy], settings: Any
) -> None:
    settings.JIUZHU_SUPERVISION_PHONE = "0796-3618888"
    response = Client().get(f"{GUIDE}poster/")
    assert response.status_code == 200
    page = response.content.decode()
    url = f"http://testserver{GUIDE}"
    qr_svg = segno.make(url, error=QR_ERROR).svg_inline(
        scale=QR_SCALE, border=QR_BORDER, omitsize=True, title=url
    )
    assert qr_svg in page
    assert "峡江县" in page and "0796-3618888" in page
    assert "@page { size: A4 portrait" in page
    # the themes with how many policies each: one of basic living, one of emergencies
    with translation.override("zh-hans"):
        label = str(Theme.BASIC_LIVING.label)
        count = translation.ngettext("%(n)s policy", "%(n)s policies", 1) % {"n": 1}
    assert f"<span>{label}</span><span>{count}</span>" in page
    assert "已废止的补贴" not in page
    assert Client().get("/guide/999999/poster/").status_code == 404


def test_retiring_a_policy_takes_it_off_the_guide(
    personas: Personas, library: dict[str, Policy]
) -> None:
    policy = create(personas.county_admin, code="new_one", name="新出台的补贴")
    assert "新出台的补贴" in Client().get(GUIDE).content.decode()
    policy_set_active(actor=personas.county_admin, policy=policy, active=False)
    assert "新出台的补贴" not in Client().get(GUIDE).content.decode()
