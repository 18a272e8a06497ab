"""Roster import (台账): validation of every row, all-or-nothing, idempotency, the template,
the error report and who may use the pages. Every person here is synthetic."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from stdnum.cn import ric

from jiuzhu.accounts.models import AuditAction, AuditEvent
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, Household, Person, TimelineEvent
from jiuzhu.registry.roster import (
    MSG_REGISTERED_ELSEWHERE,
    TEMPLATE_HEADERS,
    RosterResult,
    roster_error_report_xlsx,
    roster_import,
)
from tests.conftest import (
    ID_CHILD,
    ID_HEAD,
    ID_SPOUSE,
    VILLAGE_A,
    VILLAGE_B,
    Family,
    Personas,
    login,
)

URL = "/households/roster/"
TEMPLATE_URL = "/households/roster/template.xlsx"


def make_id(first17: str) -> str:
    """A synthetic ID number with a correct GB 11643 check digit."""
    return first17 + ric.calc_check_digit(first17 + "0")


# 峡江县: 362423 for people born before 2000, 360823 since.
ID_ZHANG = make_id("36242319550612003")  # 张大山, head of household 1
ID_LIU = make_id("36242319570903004")  # 刘桂兰, his wife
ID_YU = make_id("36082320120415002")  # 张小雨, their grandchild
ID_CHEN = make_id("36242319400101005")  # 陈老根, alone in household 2


def roster_rows() -> list[dict[str, Any]]:
    return [
        {
            "户编号": "1",
            "村(社区)区划代码": VILLAGE_A,
            "家庭住址": "示例一村5组8号",
            "城乡类别": "农村",
            "姓名": "张大山",
            "身份证号码": ID_ZHANG,
            "与户主关系": "户主",
            "联系电话": "13907960011",
            "健康状况": "慢性病",
            "救助类别": "低保",
            "开始日期": datetime.date(2023, 1, 1),
            "月救助金额(元)": 520,
        },
        {
            "户编号": "1",
            "姓名": "刘桂兰",
            "身份证号码": ID_LIU,
            "与户主关系": "配偶",
            "残疾类别": "肢体",
            "残疾等级": "二级",
            "救助类别": "低保",
            "开始日期": "2023-01-01",
            "月救助金额(元)": "520.00",
        },
        {
            "户编号": "1",
            "姓名": "张小雨",
            "身份证号码": ID_YU,
            "与户主关系": "孙女",
            "救助类别": "事实无人抚养儿童",
            "开始日期": "2024/9/1",
            "月救助金额(元)": 1200.5,
        },
        {
            "户编号": "2",
            "村(社区)区划代码": VILLAGE_B,
            "家庭住址": "示例二村1组2号",
            "城乡类别": "农村",
            "姓名": "陈老根",
            "身份证号码": ID_CHEN,
            "与户主关系": "户主",
            "救助类别": "特困分散供养",
            "开始日期": datetime.date(2022, 6, 1),
            "结束日期": "",
            "月救助金额(元)": 780,
        },
    ]


def xlsx_bytes(rows: list[dict[str, Any]], headers: tuple[str, ...] = TEMPLATE_HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "台账"
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[dict[str, Any]], encoding: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(TEMPLATE_HEADERS)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row.get(h) for h in TEMPLATE_HEADERS])
    return buffer.getvalue().encode(encoding)


def table_counts() -> dict[str, int]:
    return {
        "households": Household.objects.count(),
        "persons": Person.objects.count(),
        "enrolments": Enrolment.objects.count(),
        "timeline": TimelineEvent.objects.count(),
        "audit_changes": AuditEvent.objects.exclude(action=AuditAction.IMPORT).count(),
    }


def import_audits() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.IMPORT).order_by("id"))


def errors_of(result: RosterResult) -> list[tuple[int | None, str, str]]:
    return [(e.row, e.column, e.message) for e in result.errors]


# -- the service ------------------------------------------------------------------------


def test_valid_xlsx_imports_households_persons_and_enrolments(personas: Personas) -> None:
    # given
    content = xlsx_bytes(roster_rows())
    # when
    result = roster_import(actor=personas.town_officer, file_name="台账.xlsx", content=content)
    # then
    assert result.ok, errors_of(result)
    assert result.imported
    assert (result.households_created, result.persons_created, result.enrolments_created) == (
        2,
        4,
        4,
    )
    assert Household.objects.count() == 2
    assert Person.objects.count() == 4
    assert Enrolment.objects.count() == 4
    zhang = Person.objects.get(name="张大山")
    household = zhang.household
    assert household.region_id == VILLAGE_A
    assert household.address == "示例一村5组8号"
    assert household.area_type == c.AreaType.RURAL
    assert household.head_name == "张大山"
    assert household.member_count == 3
    assert zhang.relationship == c.Relationship.HEAD
    assert zhang.sex == "M"
    assert zhang.birth_date == datetime.date(1955, 6, 12)
    assert zhang.health == c.Health.CHRONIC
    assert zhang.phone_masked == "139****0011"
    liu = Person.objects.get(name="刘桂兰")
    assert (liu.disability_type, liu.disability_grade) == (c.DisabilityType.PHYSICAL, 2)
    assert liu.health == c.Health.DISABLED
    assert Person.objects.get(name="张小雨").relationship == c.Relationship.GRANDCHILD
    yu_enrolment = Enrolment.objects.get(person__name="张小雨")
    assert yu_enrolment.category == c.Category.UNSUPPORTED_CHILD
    assert yu_enrolment.start_date == datetime.date(2024, 9, 1)
    assert yu_enrolment.monthly_amount == Decimal("1200.50")
    assert yu_enrolment.source == "roster"
    chen_enrolment = Enrolment.objects.get(person__name="陈老根")
    assert chen_enrolment.category == c.Category.TEKUN_DISPERSED
    assert chen_enrolment.household.region_id == VILLAGE_B


def test_id_numbers_are_not_stored_in_clear(personas: Personas) -> None:
    # given
    content = xlsx_bytes(roster_rows())
    # when
    roster_import(actor=personas.town_officer, file_name="台账.xlsx", content=content)
    # then
    clear_ids = {ID_ZHANG, ID_LIU, ID_YU, ID_CHEN}
    for person in Person.objects.all():
        stored = " ".join(
            str(v) for v in Person.objects.filter(pk=person.pk).values().get().values()
        )
        assert not any(number in stored for number in clear_ids)
    assert (
        Person.objects.get(name="张大山").id_number_masked
        == ID_ZHANG[:4] + "*" * 10 + ID_ZHANG[-4:]
    )
    logged = " ".join(str(e.detail) for e in AuditEvent.objects.all())
    assert not any(number in logged for number in clear_ids)
    timeline = " ".join(f"{e.summary} {e.detail}" for e in TimelineEvent.objects.all())
    assert not any(number in timeline for number in clear_ids)


def test_import_writes_one_audit_row_with_file_name_and_counts(personas: Personas) -> None:
    # given
    content = xlsx_bytes(roster_rows())
    # when
    roster_import(actor=personas.town_officer, file_name="水边镇台账.xlsx", content=content)
    # then
    [audit] = import_audits()
    assert audit.actor == personas.town_officer
    assert audit.object_type == "registry.roster"
    assert audit.detail["file_name"] == "水边镇台账.xlsx"
    assert audit.detail["status"] == "imported"
    assert audit.detail["persons_created"] == 4
    assert audit.detail["households_created"] == 2
    assert audit.detail["enrolments_created"] == 4
    assert audit.detail["errors"] == 0


def test_importing_the_same_file_again_changes_nothing(personas: Personas) -> None:
    # given
    content = xlsx_bytes(roster_rows())
    roster_import(actor=personas.town_officer, file_name="台账.xlsx", content=content)
    before = table_counts()
    # when
    again = roster_import(actor=personas.town_officer, file_name="台账.xlsx", content=content)
    # then
    assert again.ok and again.imported
    assert not again.changed
    assert (again.households_created, again.persons_created, again.enrolments_created) == (
        0,
        0,
        0,
    )
    assert (again.households_existing, again.persons_skipped, again.enrolments_skipped) == (
        2,
        4,
        4,
    )
    assert table_counts() == before
    assert len(import_audits()) == 2


def test_a_new_member_and_enrolment_are_added_to_the_registered_household(
    personas: Personas,
) -> None:
    # given
    roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(roster_rows())
    )
    newborn = make_id("36082320230210003")
    rows = [
        *roster_rows(),
        {
            "户编号": "1",
            "姓名": "张小禾",
            "身份证号码": newborn,
            "与户主关系": "孙子女",
            "救助类别": "低保",
            "开始日期": "2023-03-01",
            "月救助金额(元)": 520,
        },
    ]
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert result.ok, errors_of(result)
    assert (result.households_created, result.persons_created, result.enrolments_created) == (
        0,
        1,
        1,
    )
    household = Person.objects.get(name="张大山").household
    assert Person.objects.get(name="张小禾").household == household
    household.refresh_from_db()
    assert household.member_count == 4
    assert Household.objects.count() == 2


BAD_CELLS = [
    pytest.param(
        "身份证号码",
        ID_LIU[:-1] + ("0" if ID_LIU[-1] != "0" else "1"),
        "身份证号码校验位错误",
        id="id-checksum",
    ),
    pytest.param(
        "村(社区)区划代码", "360823101201", "不在您的管辖范围内", id="region-out-of-scope"
    ),
    pytest.param("村(社区)区划代码", "360823100999", "不存在", id="region-unknown"),
    pytest.param("村(社区)区划代码", "360823100", "应为12位数字", id="region-not-village"),
    pytest.param("开始日期", "2023-02-30", "日期“2023-02-30”不存在", id="date-impossible"),
    pytest.param("开始日期", "去年三月", "日期格式错误", id="date-format"),
    pytest.param("月救助金额(元)", "-5", "金额不能为负数", id="amount-negative"),
    pytest.param("月救助金额(元)", "五百元", "不是数字", id="amount-text"),
    pytest.param("救助类别", "低保户", "救助类别“低保户”无法识别", id="category-unknown"),
    pytest.param("与户主关系", "邻居", "与户主关系“邻居”无法识别", id="relationship-unknown"),
    pytest.param("城乡类别", "郊区", "城乡类别“郊区”无法识别", id="area-type-unknown"),
    pytest.param("联系电话", "12345", "联系电话“12345”格式错误", id="phone"),
    pytest.param("姓名", "刘*兰", "脱敏", id="masked-name"),
]


@pytest.mark.parametrize(("column", "value", "message"), BAD_CELLS)
def test_one_bad_row_imports_nothing_and_names_row_column_and_problem(
    personas: Personas,
    column: str,
    value: str,
    message: str,
) -> None:
    # given: the second data row (spreadsheet row 3) is wrong in one cell
    rows = roster_rows()
    rows[1][column] = value
    if column == "村(社区)区划代码":
        rows[1]["户编号"] = "3"  # its own household, so the code is not in conflict
        rows[1]["城乡类别"] = "农村"
        rows[1]["与户主关系"] = "户主"
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert not result.ok
    assert not result.imported
    assert [(e.row, e.column) for e in result.errors] == [(3, column)], errors_of(result)
    assert message in result.errors[0].message
    assert Household.objects.count() == 0
    assert Person.objects.count() == 0
    assert Enrolment.objects.count() == 0
    [audit] = import_audits()
    assert audit.detail["status"] == "rejected"
    assert audit.detail["errors"] == 1


def test_every_row_is_checked_and_all_errors_are_reported(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[0]["开始日期"] = "2023-13-01"
    rows[2]["月救助金额(元)"] = "12.345"
    rows[3]["救助类别"] = "五保"
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "开始日期"),
        (4, "月救助金额(元)"),
        (5, "救助类别"),
    ]
    assert "最多保留两位小数" in result.errors[1].message
    assert Person.objects.count() == 0


def test_end_date_before_start_date_is_an_error(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[3]["结束日期"] = "2021-01-01"
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [(5, "结束日期", "结束日期早于开始日期")]


def test_category_without_start_date_or_amount_is_an_error(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[3]["开始日期"] = None
    rows[3]["月救助金额(元)"] = None
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert [(e.row, e.column) for e in result.errors] == [(5, "开始日期"), (5, "月救助金额(元)")]


def test_household_without_head_and_household_with_two_heads(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[0]["与户主关系"] = "配偶"  # household 1 has no head
    second_head = {
        "户编号": "2",
        "姓名": "陈二根",
        "身份证号码": make_id("36242319450303007"),
        "与户主关系": "户主",
    }
    rows.append(second_head)  # household 2 has two
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [
        (2, "与户主关系", "该户没有户主：每户须有且只有一名户主"),
        (6, "与户主关系", "该户有多名户主（第5行已是户主）：每户须有且只有一名户主"),
    ]


def test_duplicate_id_in_the_file_and_same_person_in_two_households(
    personas: Personas,
) -> None:
    # given
    rows = roster_rows()
    rows.append({"户编号": "1", "姓名": "刘桂兰", "身份证号码": ID_LIU, "与户主关系": "配偶"})
    rows.append({"户编号": "2", "姓名": "张小雨", "身份证号码": ID_YU, "与户主关系": "孙女"})
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [
        (6, "身份证号码", "身份证号码与第3行重复"),
        (7, "身份证号码", "同一人出现在两个家庭中（第4行户编号“1”，本行户编号“2”）"),
    ]


def test_id_registered_in_another_household_is_an_error(
    personas: Personas,
    family: Family,
) -> None:
    # given: 王小明 (already in the Wang household) listed as a member of a new household
    rows = roster_rows()
    rows.append({"户编号": "2", "姓名": "王小明", "身份证号码": ID_CHILD, "与户主关系": "其他"})
    before = table_counts()
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [
        (6, "身份证号码", f"该身份证号码已登记在其他家庭（户号{family.household.number}）"),
    ]
    assert table_counts() == before


def test_a_registered_head_outside_the_users_area_is_an_error(
    personas: Personas,
    family: Family,
) -> None:
    # given: an officer of another town lists the Wang head as head of a household of theirs
    rows = [
        {
            "户编号": "1",
            "村(社区)区划代码": "360823101201",
            "城乡类别": "农村",
            "姓名": "王建国",
            "身份证号码": ID_HEAD,
            "与户主关系": "户主",
        }
    ]
    # when
    result = roster_import(
        actor=personas.other_town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [
        (2, "身份证号码", MSG_REGISTERED_ELSEWHERE),
    ]


def test_household_columns_may_be_left_blank_but_must_agree(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[2]["村(社区)区划代码"] = VILLAGE_B
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert errors_of(result) == [(4, "村(社区)区划代码", "同一户的区划代码不一致（与第2行不同）")]


def test_blank_household_number_continues_the_household_above(personas: Personas) -> None:
    # given: 户编号 as merged cells, filled only on the first row of each household
    rows = roster_rows()
    rows[1]["户编号"] = None
    rows[2]["户编号"] = None
    content = xlsx_bytes(rows)
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    workbook["台账"].merge_cells("A2:A4")
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=buffer.getvalue()
    )
    # then
    assert result.ok, errors_of(result)
    assert (
        Person.objects.get(name="张小雨").household == Person.objects.get(name="张大山").household
    )


def test_id_number_saved_as_a_number_is_explained(personas: Personas) -> None:
    # given: Excel turned the ID into a number and lost its last digits
    rows = roster_rows()
    rows[3]["身份证号码"] = int(ID_CHEN)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert [(e.row, e.column) for e in result.errors] == [(5, "身份证号码")]
    assert "文本格式" in result.errors[0].message


def test_missing_required_column_is_reported(personas: Personas) -> None:
    # given
    headers = tuple(h for h in TEMPLATE_HEADERS if h != "与户主关系")
    # when
    result = roster_import(
        actor=personas.town_officer,
        file_name="台账.xlsx",
        content=xlsx_bytes(roster_rows(), headers=headers),
    )
    # then
    assert errors_of(result) == [(1, "与户主关系", "缺少必填列“与户主关系”，请使用导入模板")]


def test_head_id_number_column_may_group_the_rows(personas: Personas) -> None:
    # given: a roster that groups members by the head's ID number instead of 户编号
    headers = ("户主身份证号码", *(h for h in TEMPLATE_HEADERS if h != "户编号"))
    rows = roster_rows()
    for row in rows:
        row["户主身份证号码"] = ID_ZHANG if row["户编号"] == "1" else ID_CHEN
    # when
    result = roster_import(
        actor=personas.town_officer,
        file_name="台账.xlsx",
        content=xlsx_bytes(rows, headers=headers),
    )
    # then
    assert result.ok, errors_of(result)
    assert result.households_created == 2


def test_gbk_csv_imports(personas: Personas) -> None:
    # given: Chinese Excel saves "CSV (逗号分隔)" in GBK
    content = csv_bytes(roster_rows(), "gbk")
    # when
    result = roster_import(actor=personas.town_officer, file_name="台账.csv", content=content)
    # then
    assert result.ok, errors_of(result)
    assert (result.households_created, result.persons_created, result.enrolments_created) == (
        2,
        4,
        4,
    )
    assert Household.objects.filter(address="示例一村5组8号").exists()


def test_utf8_csv_with_bom_imports(personas: Personas) -> None:
    # given
    content = csv_bytes(roster_rows(), "utf-8-sig")
    # when
    result = roster_import(actor=personas.town_officer, file_name="台账.csv", content=content)
    # then
    assert result.ok, errors_of(result)
    assert Person.objects.count() == 4


def test_unreadable_or_wrong_files_are_refused_in_chinese(personas: Personas) -> None:
    # when
    wrong_type = roster_import(
        actor=personas.town_officer, file_name="台账.pdf", content=b"%PDF-1.4"
    )
    not_excel = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=b"just text"
    )
    no_header = roster_import(
        actor=personas.town_officer, file_name="台账.csv", content="甲,乙\n1,2\n".encode()
    )
    # then
    assert errors_of(wrong_type) == [
        (None, "", "只能导入Excel文件（.xlsx、.xls）或CSV文件（.csv）。")
    ]
    assert "不是有效的Excel文件" in not_excel.errors[0].message
    assert "找不到表头" in no_header.errors[0].message
    assert Person.objects.count() == 0


def test_dry_run_checks_and_counts_but_writes_nothing(personas: Personas) -> None:
    # given
    before = table_counts()
    # when
    result = roster_import(
        actor=personas.town_officer,
        file_name="台账.xlsx",
        content=xlsx_bytes(roster_rows()),
        dry_run=True,
    )
    # then
    assert result.ok and not result.imported
    assert (result.households_created, result.persons_created, result.enrolments_created) == (
        2,
        4,
        4,
    )
    assert table_counts() == before
    # A check reveals whether numbers are registered, so it is audited like an import.
    [audit] = import_audits()
    assert audit.detail["status"] == "checked"
    assert audit.actor == personas.town_officer


def test_users_without_the_permission_cannot_import(personas: Personas) -> None:
    # when / then
    with pytest.raises(PermissionDenied):
        roster_import(
            actor=personas.village_assistant,
            file_name="台账.xlsx",
            content=xlsx_bytes(roster_rows()),
        )


def test_error_report_keeps_the_rows_and_adds_the_errors(personas: Personas) -> None:
    # given
    rows = roster_rows()
    rows[1]["身份证号码"] = ID_LIU[:-1] + ("0" if ID_LIU[-1] != "0" else "1")
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    # when
    report = openpyxl.load_workbook(io.BytesIO(roster_error_report_xlsx(result=result)))
    # then
    sheet = report["台账"]
    header = [cell.value for cell in sheet[1]]
    assert header == [*TEMPLATE_HEADERS, "错误信息"]
    assert sheet.cell(row=3, column=6).value == rows[1]["身份证号码"]
    assert sheet.cell(row=3, column=len(header)).value == "身份证号码：身份证号码校验位错误"
    assert sheet.cell(row=2, column=len(header)).value is None
    assert [cell.value for cell in report["错误清单"][2]] == [
        3,
        "身份证号码",
        "身份证号码校验位错误",
    ]


# -- the template ---------------------------------------------------------------------


def test_template_round_trip(client: Client, personas: Personas) -> None:
    # given: the downloaded template, filled in with openpyxl
    login(client, personas.town_officer)
    response = client.get(TEMPLATE_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.worksheets[0]
    assert tuple(cell.value for cell in sheet[1]) == TEMPLATE_HEADERS
    for number, row in enumerate(roster_rows(), start=2):
        for column, header in enumerate(TEMPLATE_HEADERS, start=1):
            if row.get(header) is not None:
                sheet.cell(row=number, column=column, value=row[header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="模板.xlsx", content=buffer.getvalue()
    )
    # then
    assert result.ok, errors_of(result)
    assert (result.households_created, result.persons_created, result.enrolments_created) == (
        2,
        4,
        4,
    )


# -- the pages ------------------------------------------------------------------------


def upload(content: bytes, name: str = "台账.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def test_town_officer_sees_the_upload_page(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    # when
    response = client.get(URL)
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert 'type="file"' in body
    assert TEMPLATE_URL in body


def test_town_officer_imports_through_the_page(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    # when
    response = client.post(URL, {"file": upload(xlsx_bytes(roster_rows()))})
    # then
    assert response.status_code == 200
    result = response.context["result"]
    assert result.imported and result.persons_created == 4
    assert Person.objects.count() == 4


def test_check_only_button_imports_nothing(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    # when
    response = client.post(URL, {"file": upload(xlsx_bytes(roster_rows())), "check": "1"})
    # then
    assert response.status_code == 200
    assert response.context["result"].ok
    assert Person.objects.count() == 0


def test_page_shows_errors_and_the_report_downloads_for_the_uploader_only(
    client: Client,
    personas: Personas,
) -> None:
    # given
    rows = roster_rows()
    rows[2]["救助类别"] = "低保户"
    login(client, personas.town_officer)
    # when
    response = client.post(URL, {"file": upload(xlsx_bytes(rows))})
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "救助类别“低保户”无法识别" in body
    assert Person.objects.count() == 0
    token = response.context["report_token"]
    report_url = f"/households/roster/report/{token}.xlsx"
    assert report_url in body
    report = client.get(report_url)
    assert report.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(report.streaming_content)))
    assert workbook["台账"].cell(row=1, column=len(TEMPLATE_HEADERS) + 1).value == "错误信息"
    assert (
        AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="registry.roster").count()
        == 1
    )
    # and another officer cannot fetch it
    other = Client()
    login(other, personas.county_admin)
    assert other.get(report_url).status_code == 404


def test_too_large_upload_is_refused(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    big = b"PK\x03\x04" + b"\0" * (20 * 1024 * 1024)
    # when
    response = client.post(URL, {"file": upload(big)})
    # then
    assert response.status_code == 400
    assert "文件超过20MB" in response.content.decode()
    assert import_audits() == []


def test_other_file_types_are_refused(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    # when
    response = client.post(URL, {"file": upload(b"MZ\x90\x00", name="roster.exe")})
    # then
    assert response.status_code == 400
    assert "只能导入Excel文件" in response.content.decode()


def test_post_without_a_file_is_refused(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.town_officer)
    # when
    response = client.post(URL, {})
    # then
    assert response.status_code == 400
    assert "请选择要导入的文件" in response.content.decode()


@pytest.mark.parametrize("persona", ["village_assistant", "volunteer", "supervisor", "donor"])
@pytest.mark.parametrize("url", [URL, TEMPLATE_URL, "/households/roster/report/abc.xlsx"])
def test_users_without_the_permission_get_404(
    client: Client,
    personas: Personas,
    persona: str,
    url: str,
) -> None:
    # given
    login(client, getattr(personas, persona))
    # when
    response = client.get(url)
    # then
    assert response.status_code == 404


def test_users_without_the_permission_cannot_post(client: Client, personas: Personas) -> None:
    # given
    login(client, personas.village_assistant)
    # when
    response = client.post(URL, {"file": upload(xlsx_bytes(roster_rows()))})
    # then
    assert response.status_code == 404
    assert Person.objects.count() == 0


@pytest.mark.parametrize("url", [URL, TEMPLATE_URL])
def test_anonymous_is_sent_to_login(client: Client, personas: Personas, url: str) -> None:
    # when
    response = client.get(url)
    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_too_many_rows_are_refused(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr("jiuzhu.registry.roster.MAX_ROWS", 3)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(roster_rows())
    )
    # then
    assert errors_of(result) == [(None, "", "文件有4行，每次最多导入3行，请拆分后分批导入")]
    assert Person.objects.count() == 0


def test_title_row_and_extra_columns_are_tolerated(personas: Personas) -> None:
    # given: a title above the header and a 序号 column, as in many local rosters
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["水边镇低保对象花名册（虚构）"])
    sheet.append(["序号", *TEMPLATE_HEADERS])
    for number, row in enumerate(roster_rows(), start=1):
        sheet.append([number, *(row.get(h) for h in TEMPLATE_HEADERS)])
    sheet.cell(row=4, column=7, value="坏号码")  # 身份证号码 of the second person
    buffer = io.BytesIO()
    workbook.save(buffer)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="花名册.xlsx", content=buffer.getvalue()
    )
    # then: the row number is the one Excel shows
    assert [(e.row, e.column) for e in result.errors] == [(4, "身份证号码")]


def test_corrected_error_report_can_be_uploaded_again(personas: Personas) -> None:
    # given: a rejected file, its error report, and the wrong cell corrected in the report
    rows = roster_rows()
    rows[1]["救助类别"] = "低保户"
    rejected = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows)
    )
    report = openpyxl.load_workbook(io.BytesIO(roster_error_report_xlsx(result=rejected)))
    sheet = report["台账"]
    sheet.cell(row=3, column=TEMPLATE_HEADERS.index("救助类别") + 1, value="低保")
    buffer = io.BytesIO()
    report.save(buffer)
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账-错误报告.xlsx", content=buffer.getvalue()
    )
    # then
    assert result.ok, errors_of(result)
    assert (result.persons_created, result.enrolments_created) == (4, 4)


def test_dry_run_on_a_registered_household_writes_nothing(personas: Personas) -> None:
    # given: the roster imported, then a new member added to the file
    roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(roster_rows())
    )
    rows = [
        *roster_rows(),
        {
            "户编号": "1",
            "姓名": "张小禾",
            "身份证号码": make_id("36082320230210003"),
            "与户主关系": "孙子女",
            "救助类别": "低保",
            "开始日期": "2023-03-01",
            "月救助金额(元)": 520,
        },
    ]
    before = table_counts()
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="台账.xlsx", content=xlsx_bytes(rows), dry_run=True
    )
    # then
    assert result.ok, errors_of(result)
    assert (result.persons_created, result.persons_skipped) == (1, 4)
    assert (result.enrolments_created, result.enrolments_skipped) == (1, 4)
    assert table_counts() == before


def test_a_registered_member_listed_as_head_does_not_take_over_the_household(
    personas: Personas, family: Family
) -> None:
    # given: the family's spouse named as head of a "new" household with a new child
    rows = [
        {
            "户编号": "9",
            "村(社区)区划代码": VILLAGE_A,
            "家庭住址": "示例一村3组12号",
            "城乡类别": "农村",
            "姓名": "李秀英",
            "身份证号码": ID_SPOUSE,
            "与户主关系": "户主",
        },
        {
            "户编号": "9",
            "姓名": "王小红",
            "身份证号码": make_id("36082320180101002"),
            "与户主关系": "子女",
        },
    ]
    before = table_counts()
    # when
    result = roster_import(
        actor=personas.town_officer, file_name="x.xlsx", content=xlsx_bytes(rows)
    )
    # then
    assert not result.imported
    assert any("不是户主" in e.message for e in result.errors)
    assert table_counts() == before
