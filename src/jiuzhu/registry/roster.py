"""Roster import (台账导入): an existing assistance roster from Excel or CSV.

One row is one person; rows with the same household number (户编号) form a household.
Every row is validated and every error collected (row, column, a Chinese message). A
file with any error imports nothing. A clean file is imported in one transaction through
the registry services, so each household, member and enrolment is audited and put on the
household timeline like any other. Importing the same file again changes nothing:
persons are found by the blind index of their ID number, enrolments by (household,
person, category, start date).

    result = roster_import(actor=user, file_name="台账.xlsx", content=data)
    if not result.ok:
        report = roster_error_report_xlsx(result=result)

The columns, rules and guarantees are described in docs/roster.md.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from jiuzhu.accounts.models import AuditAction, User
from jiuzhu.accounts.roles import Perm
from jiuzhu.accounts.scoping import region_in_scope, user_has_perm
from jiuzhu.accounts.services import audit_record
from jiuzhu.core.idnumbers import InvalidIdNumber, normalise_phone, parse_id_number
from jiuzhu.core.tabular import UnreadableFile, read_csv_rows, read_excel_sheets
from jiuzhu.regions.models import Level, Region
from jiuzhu.registry import choices as c
from jiuzhu.registry.models import Enrolment, Household, Person
from jiuzhu.registry.protected import id_number_index
from jiuzhu.registry.services import enrolment_start, household_create, person_create

SOURCE = "roster"
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Each row goes through the registry services (audit, timeline): about 10 ms a person on
# the 2-core reference machine, so 5 000 rows stay within a web request's time.
MAX_ROWS = 5_000
ALLOWED_EXTENSIONS = (".xlsx", ".xls", ".csv")
MAX_AMOUNT = Decimal("1000000")
HEADER_SEARCH_ROWS = 20
DATA_SHEET = "台账"
HELP_SHEET = "填写说明"

MSG_TOO_LARGE = "文件超过20MB，请拆分后分批导入。"
MSG_WRONG_TYPE = "只能导入Excel文件（.xlsx、.xls）或CSV文件（.csv）。"
MSG_EMPTY = "文件是空的。"
MSG_ERROR_COLUMN = "错误信息"


# -- the columns -------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as written in the template
    required: bool
    help: str  # one line for the instruction sheet
    aliases: tuple[str, ...] = ()  # other headers found in local rosters
    width: int = 12
    number_format: str = ""  # "@" keeps long digit strings as text in Excel
    choices: tuple[str, ...] = ()  # a drop-down list in the template
    in_template: bool = True


RELATIONSHIP_BY_CHINESE_NAME: dict[str, str] = {
    **dict.fromkeys(("户主", "本人"), c.Relationship.HEAD),
    **dict.fromkeys(("配偶", "妻子", "丈夫", "妻", "夫"), c.Relationship.SPOUSE),
    **dict.fromkeys(
        (
            "子女",
            "子",
            "女",
            "儿子",
            "女儿",
            "长子",
            "次子",
            "三子",
            "长女",
            "次女",
            "三女",
            "养子",
            "养女",
            "继子",
            "继女",
        ),
        c.Relationship.CHILD,
    ),
    **dict.fromkeys(("儿媳", "女婿", "媳妇", "子女配偶"), c.Relationship.CHILD_IN_LAW),
    **dict.fromkeys(
        ("孙子女", "孙子", "孙女", "外孙子女", "外孙", "外孙女"), c.Relationship.GRANDCHILD
    ),
    **dict.fromkeys(
        ("父母", "父亲", "母亲", "父", "母", "岳父", "岳母", "公公", "婆婆"), c.Relationship.PARENT
    ),
    **dict.fromkeys(
        ("祖父母", "外祖父母", "祖父", "祖母", "外祖父", "外祖母", "爷爷", "奶奶", "外公", "外婆"),
        c.Relationship.GRANDPARENT,
    ),
    **dict.fromkeys(
        ("兄弟姐妹", "兄", "弟", "姐", "妹", "哥哥", "弟弟", "姐姐", "妹妹"),
        c.Relationship.SIBLING,
    ),
    **dict.fromkeys(("其他", "其他亲属"), c.Relationship.OTHER),
}
AREA_TYPE_BY_CHINESE_NAME: dict[str, str] = {
    **dict.fromkeys(("城镇", "城市", "城"), c.AreaType.URBAN),
    **dict.fromkeys(("农村", "乡村", "农"), c.AreaType.RURAL),
}
HEALTH_BY_CHINESE_NAME: dict[str, str] = {
    **dict.fromkeys(("健康", "良好"), c.Health.HEALTHY),
    **dict.fromkeys(("慢性病", "患慢性病", "长期慢性病"), c.Health.CHRONIC),
    **dict.fromkeys(("重病", "大病", "患重病", "患大病", "重大疾病"), c.Health.SERIOUS),
    "残疾": c.Health.DISABLED,
}
DISABILITY_BY_CHINESE_NAME: dict[str, str] = {
    "视力": c.DisabilityType.VISUAL,
    "听力": c.DisabilityType.HEARING,
    "言语": c.DisabilityType.SPEECH,
    "肢体": c.DisabilityType.PHYSICAL,
    "智力": c.DisabilityType.INTELLECTUAL,
    "精神": c.DisabilityType.MENTAL,
    "多重": c.DisabilityType.MULTIPLE,
}
GRADE_BY_TEXT = {"1": 1, "2": 2, "3": 3, "4": 4, "一": 1, "二": 2, "三": 3, "四": 4}
# The first Chinese name of each category is the one offered in the template.
CATEGORY_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(
        next(name for name, cat in c.CATEGORY_BY_CHINESE_NAME.items() if cat == category)
        for category in c.Category
        if category in c.CATEGORY_BY_CHINESE_NAME.values()
    )
)

RELATIONSHIP_NAMES = (
    "户主",
    "配偶",
    "子女",
    "儿媳",
    "女婿",
    "孙子女",
    "父母",
    "祖父母",
    "兄弟姐妹",
    "其他",
)

COLUMNS: tuple[Column, ...] = (
    Column(
        "household_key",
        "户编号",
        True,
        "同一户的成员填相同的编号（如1、2、3，或本地户号）；留空或合并单元格表示与上一行同户。",
        aliases=("户号", "家庭编号", "户序号"),
        width=10,
        number_format="@",
    ),
    Column(
        "region_code",
        "村(社区)区划代码",
        True,
        "12位村（社区）统计用区划代码，须在您的管辖范围内；同一户只需填第一行。",
        aliases=("区划代码", "村(居)区划代码", "村区划代码", "社区区划代码", "行政区划代码"),
        width=18,
        number_format="@",
    ),
    Column(
        "address",
        "家庭住址",
        False,
        "同一户只需填第一行。",
        aliases=("住址", "家庭地址", "居住地址"),
        width=28,
    ),
    Column(
        "area_type",
        "城乡类别",
        True,
        "城镇或农村；同一户只需填第一行。",
        aliases=("城乡", "城乡属性"),
        choices=("城镇", "农村"),
    ),
    Column(
        "name",
        "姓名",
        True,
        "完整姓名，不要填写脱敏后的姓名（如 王*明）。",
        aliases=("成员姓名",),
        width=10,
    ),
    Column(
        "id_number",
        "身份证号码",
        True,
        "18位居民身份证号码，最后一位可为X；请保持文本格式，否则Excel会丢失末几位。",
        aliases=("身份证号", "公民身份号码", "成员身份证号码", "证件号码"),
        width=21,
        number_format="@",
    ),
    Column(
        "relationship",
        "与户主关系",
        True,
        "每户有且只有一名户主。可填：" + "、".join(RELATIONSHIP_NAMES) + "等。",
        aliases=("与户主的关系", "家庭关系", "关系"),
        choices=RELATIONSHIP_NAMES,
    ),
    Column(
        "phone",
        "联系电话",
        False,
        "手机号码或带区号的固定电话。",
        aliases=("电话", "手机号码", "手机号", "联系方式"),
        width=14,
        number_format="@",
    ),
    Column(
        "health",
        "健康状况",
        False,
        "健康、慢性病、重病或残疾；不填为健康。",
        aliases=("健康状态",),
        choices=("健康", "慢性病", "重病", "残疾"),
    ),
    Column(
        "disability_type",
        "残疾类别",
        False,
        "视力、听力、言语、肢体、智力、精神、多重（可带“残疾”二字）。",
        aliases=("残疾类型",),
        choices=("视力", "听力", "言语", "肢体", "智力", "精神", "多重"),
    ),
    Column(
        "disability_grade",
        "残疾等级",
        False,
        "1至4级；填写等级时须填写残疾类别。",
        aliases=("残疾级别",),
        choices=("1", "2", "3", "4"),
    ),
    Column(
        "category",
        "救助类别",
        False,
        "该成员享受的救助类别，可填：" + "、".join(CATEGORY_NAMES) + "；不享受的成员不填。",
        aliases=("保障类别", "救助类型", "类别"),
        width=16,
        choices=CATEGORY_NAMES,
    ),
    Column(
        "start_date",
        "开始日期",
        False,
        "填写救助类别时必填，如 2024-03-01。",
        aliases=("享受开始日期", "起始日期", "救助开始日期", "纳入日期"),
        number_format="yyyy-mm-dd",
    ),
    Column(
        "end_date",
        "结束日期",
        False,
        "可不填；不早于开始日期。",
        aliases=("终止日期", "救助结束日期", "享受结束日期"),
        number_format="yyyy-mm-dd",
    ),
    Column(
        "amount",
        "月救助金额(元)",
        False,
        "填写救助类别时必填，没有金额的填0；最多两位小数。",
        aliases=(
            "月救助金额",
            "月保障金额(元)",
            "月保障金额",
            "救助金额(元)",
            "救助金额",
            "保障金额",
        ),
        width=14,
        number_format="0.00",
    ),
    # Not in the template: some rosters group members by the head's ID number instead.
    Column(
        "head_id",
        "户主身份证号码",
        False,
        "可代替户编号：同一户的成员填户主的身份证号码。",
        aliases=("户主身份证号", "户主公民身份号码"),
        width=21,
        number_format="@",
        in_template=False,
    ),
)
COLUMN_BY_KEY = {col.key: col for col in COLUMNS}
TEMPLATE_COLUMNS = tuple(col for col in COLUMNS if col.in_template)
TEMPLATE_HEADERS = tuple(col.header for col in TEMPLATE_COLUMNS)


def _normalise_header(text: str) -> str:
    text = re.sub(r"[\s*＊]", "", text).replace("（", "(").replace("）", ")")
    return text.lower()


_HEADER_LOOKUP: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.header, *_col.aliases):
        _HEADER_LOOKUP[_normalise_header(_name)] = _col.key


# -- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int | None  # the row number as Excel shows it; None: the file as a whole
    column: str  # the column's header ("" for the whole row or file)
    message: str  # Chinese, fit for the user


@dataclass
class RosterTable:
    """The sheet as read: every row, so that the error report keeps the layout."""

    cells: list[list[Any]]
    header_row: int  # 1-based
    columns: dict[str, int]  # column key → 0-based position
    headers: dict[str, str]  # column key → header as written in the file


@dataclass
class RosterResult:
    file_name: str
    dry_run: bool = False
    imported: bool = False
    rows: int = 0
    households: int = 0
    households_created: int = 0
    households_existing: int = 0
    persons_created: int = 0
    persons_skipped: int = 0
    enrolments_created: int = 0
    enrolments_skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    table: RosterTable | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return bool(self.households_created or self.persons_created or self.enrolments_created)

    def counts(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "households": self.households,
            "households_created": self.households_created,
            "households_existing": self.households_existing,
            "persons_created": self.persons_created,
            "persons_skipped": self.persons_skipped,
            "enrolments_created": self.enrolments_created,
            "enrolments_skipped": self.enrolments_skipped,
            "errors": len(self.errors),
        }


# The file cannot be read at all (type, size, encoding, no header row).
RosterFileError = UnreadableFile


# -- reading the file ---------------------------------------------------------------------


def upload_problem(*, file_name: str, size: int) -> str | None:
    """The Chinese message for an upload refused before it is read, or None."""
    if size > MAX_UPLOAD_BYTES:
        return MSG_TOO_LARGE
    if PurePath(file_name).suffix.lower() not in ALLOWED_EXTENSIONS:
        return MSG_WRONG_TYPE
    if size == 0:
        return MSG_EMPTY
    return None


def _read_sheets(file_name: str, content: bytes) -> list[list[list[Any]]]:
    problem = upload_problem(file_name=file_name, size=len(content))
    if problem:
        raise RosterFileError(problem)
    suffix = PurePath(file_name).suffix.lower()
    is_zip = content.startswith(b"PK\x03\x04")
    is_ole = content.startswith(b"\xd0\xcf\x11\xe0")
    if suffix == ".csv":
        if is_zip or is_ole:
            raise RosterFileError(
                "文件内容是Excel格式，扩展名却是.csv，请改为.xlsx或.xls后重新上传。"
            )
        return [read_csv_rows(content)]
    if not (is_zip or is_ole):
        raise RosterFileError(
            "文件不是有效的Excel文件（可能是改了扩展名的其他文件），请另存为.xlsx后重新上传。"
        )
    return read_excel_sheets(content)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).replace("\u3000", " ").replace("\xa0", " ").replace("\u200b", "")
    return text.strip()


def _find_table(sheets: list[list[list[Any]]]) -> RosterTable:
    for cells in sheets:
        for position, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
            keys = [_HEADER_LOOKUP.get(_normalise_header(_cell_text(v))) for v in row]
            if "name" in keys and "id_number" in keys:
                columns: dict[str, int] = {}
                headers: dict[str, str] = {}
                duplicates = []
                for index, key in enumerate(keys):
                    if key is None:
                        continue
                    if key in columns:
                        duplicates.append(_cell_text(row[index]))
                        continue
                    columns[key] = index
                    headers[key] = _cell_text(row[index])
                table = RosterTable(
                    cells=cells, header_row=position + 1, columns=columns, headers=headers
                )
                if duplicates:
                    raise _HeaderError(
                        table,
                        [
                            RowError(table.header_row, name, "列重复，请删除多余的列")
                            for name in duplicates
                        ],
                    )
                return table
    raise RosterFileError(
        "找不到表头：前20行中应有一行列名（至少包括“姓名”和“身份证号码”），请使用导入模板。"
    )


class _HeaderError(Exception):
    def __init__(self, table: RosterTable, errors: list[RowError]) -> None:
        super().__init__("header")
        self.table = table
        self.errors = errors


# -- parsing one row ----------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    key: str = ""
    head_id: str = ""
    region_code: str = ""
    address: str = ""
    area_type: str = ""
    name: str = ""
    id_number: str = ""  # normalised; "" if missing or invalid
    index: str = ""  # blind index of id_number
    birth_date: datetime.date | None = None
    relationship: str = ""
    phone: str = ""
    health: str = ""
    disability_type: str = ""
    disability_grade: int | None = None
    category: str = ""
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    amount: Decimal | None = None


class _Errors:
    def __init__(self, table: RosterTable) -> None:
        self.table = table
        self.items: list[tuple[int, int, RowError]] = []

    def add(self, row: int | None, key: str, message: str) -> None:
        header = self.table.headers.get(key) or (
            COLUMN_BY_KEY[key].header if key in COLUMN_BY_KEY else ""
        )
        position = self.table.columns.get(key, -1 if not key else 999)
        self.items.append((row or 0, position, RowError(row, header, message)))

    def sorted(self) -> list[RowError]:
        """By row, then by column as they stand in the file."""
        return [e for _, _, e in sorted(self.items, key=lambda item: item[:2])]


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def _parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        day = value.date()
    elif isinstance(value, datetime.date):
        day = value
    else:
        text = _cell_text(value)
        for pattern in _DATE_PATTERNS:
            match = pattern.match(text)
            if match:
                try:
                    day = datetime.date(*(int(g) for g in match.groups()))
                except ValueError as exc:
                    raise ValueError(f"日期“{text}”不存在") from exc
                break
        else:
            raise ValueError(f"日期格式错误：“{text}”，应为 2024-03-01 这样的格式")
    if not 1949 <= day.year <= 2100:
        raise ValueError(f"日期“{day.isoformat()}”超出合理范围")
    return day


def _parse_amount(value: Any) -> Decimal:
    text = _cell_text(value)
    cleaned = re.sub(r"[,，\s元¥￥]", "", text)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"金额“{text}”不是数字") from exc
    if not amount.is_finite():
        raise ValueError(f"金额“{text}”不是数字")
    if amount < 0:
        raise ValueError("金额不能为负数")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError("金额最多保留两位小数")
    if amount > MAX_AMOUNT:
        raise ValueError("金额过大，请核对（单位为元）")
    return amount.quantize(Decimal("0.01"))


def _choice_error(label: str, text: str, allowed: Iterable[str]) -> str:
    return f"{label}“{text}”无法识别，可填：{'、'.join(allowed)}"


def _parse_row(number: int, cells: list[Any], table: RosterTable, errors: _Errors) -> _Row:
    def raw(key: str) -> Any:
        position = table.columns.get(key)
        return cells[position] if position is not None and position < len(cells) else None

    def text(key: str) -> str:
        return _cell_text(raw(key))

    row = _Row(number=number)
    row.key = text("household_key")[:50]
    row.address = text("address")
    if len(row.address) > 200:
        errors.add(number, "address", "家庭住址不能超过200个字")

    head_id = text("head_id")
    if head_id:
        try:
            row.head_id = parse_id_number(head_id).number
        except InvalidIdNumber as exc:
            errors.add(number, "head_id", str(exc))

    region_raw = raw("region_code")
    region = _cell_text(region_raw)
    if region:
        if _SCIENTIFIC.match(region):
            errors.add(
                number,
                "region_code",
                "区划代码被Excel显示为科学计数法，请将该列设为文本格式后重新填写",
            )
        elif not (region.isdigit() and len(region) == 12):
            errors.add(number, "region_code", f"区划代码“{region}”应为12位数字（村、社区级）")
        else:
            row.region_code = region

    area = text("area_type")
    if area:
        if area in AREA_TYPE_BY_CHINESE_NAME:
            row.area_type = AREA_TYPE_BY_CHINESE_NAME[area]
        else:
            errors.add(number, "area_type", _choice_error("城乡类别", area, ("城镇", "农村")))

    row.name = re.sub(r"\s+", "", text("name"))
    if not row.name:
        errors.add(number, "name", "姓名不能为空")
    elif "*" in row.name or "＊" in row.name:
        errors.add(number, "name", "姓名中有*号，像是脱敏后的数据，请填写完整姓名")
    elif len(row.name) > 50:
        errors.add(number, "name", "姓名不能超过50个字")

    id_raw = raw("id_number")
    id_text = _cell_text(id_raw).upper()
    if not id_text:
        errors.add(number, "id_number", "身份证号码不能为空")
    elif isinstance(id_raw, int | float) or _SCIENTIFIC.match(id_text):
        errors.add(
            number,
            "id_number",
            "身份证号码被保存成了数字，末几位已丢失；请将该列设为文本格式后重新填写",
        )
    else:
        try:
            facts = parse_id_number(id_text)
        except InvalidIdNumber as exc:
            errors.add(number, "id_number", str(exc))
        else:
            row.id_number = facts.number
            row.birth_date = facts.birth_date
            row.index = id_number_index(facts.number)

    relationship = text("relationship")
    if not relationship:
        errors.add(number, "relationship", "与户主关系不能为空")
    elif relationship in RELATIONSHIP_BY_CHINESE_NAME:
        row.relationship = RELATIONSHIP_BY_CHINESE_NAME[relationship]
    else:
        errors.add(
            number,
            "relationship",
            _choice_error("与户主关系", relationship, COLUMN_BY_KEY["relationship"].choices),
        )

    phone = text("phone")
    if phone:
        try:
            row.phone = normalise_phone(phone)
        except ValueError:
            errors.add(number, "phone", f"联系电话“{phone}”格式错误")

    health = text("health")
    if health:
        if health in HEALTH_BY_CHINESE_NAME:
            row.health = HEALTH_BY_CHINESE_NAME[health]
        else:
            errors.add(
                number, "health", _choice_error("健康状况", health, COLUMN_BY_KEY["health"].choices)
            )

    disability = text("disability_type")
    if disability:
        short = disability.removesuffix("残疾")
        if short in DISABILITY_BY_CHINESE_NAME:
            row.disability_type = DISABILITY_BY_CHINESE_NAME[short]
        else:
            errors.add(
                number,
                "disability_type",
                _choice_error("残疾类别", disability, COLUMN_BY_KEY["disability_type"].choices),
            )
    grade = text("disability_grade")
    if grade:
        short = grade.removesuffix("级")
        if short not in GRADE_BY_TEXT:
            errors.add(number, "disability_grade", f"残疾等级“{grade}”应为1至4级")
        elif not disability:
            errors.add(number, "disability_grade", "填写了残疾等级，请同时填写残疾类别")
        else:
            row.disability_grade = GRADE_BY_TEXT[short]

    category = text("category")
    start_raw, end_raw, amount_raw = raw("start_date"), raw("end_date"), raw("amount")
    start_text, end_text, amount_text = (
        _cell_text(start_raw),
        _cell_text(end_raw),
        _cell_text(amount_raw),
    )
    if category:
        normalised = re.sub(r"\s+", "", category)
        found = c.CATEGORY_BY_CHINESE_NAME.get(normalised) or c.CATEGORY_BY_CHINESE_NAME.get(
            normalised.removesuffix("对象").removesuffix("人员")
        )
        if found is None:
            errors.add(number, "category", _choice_error("救助类别", category, CATEGORY_NAMES))
        else:
            row.category = found
        if not start_text:
            errors.add(number, "start_date", "填写了救助类别，请填写开始日期")
        if not amount_text:
            errors.add(number, "amount", "填写了救助类别，请填写月救助金额（没有金额的填0）")
    elif start_text or end_text or amount_text:
        errors.add(number, "category", "填写了日期或金额，请同时填写救助类别")
    if start_text:
        try:
            row.start_date = _parse_date(start_raw)
        except ValueError as exc:
            errors.add(number, "start_date", str(exc))
    if end_text:
        try:
            row.end_date = _parse_date(end_raw)
        except ValueError as exc:
            errors.add(number, "end_date", str(exc))
    if row.start_date and row.end_date and row.end_date < row.start_date:
        errors.add(number, "end_date", "结束日期早于开始日期")
    if row.start_date and row.birth_date and row.start_date < row.birth_date:
        errors.add(number, "start_date", "开始日期早于出生日期")
    if amount_text:
        try:
            row.amount = _parse_amount(amount_raw)
        except ValueError as exc:
            errors.add(number, "amount", str(exc))
    return row


# -- households ---------------------------------------------------------------------------


@dataclass
class _Group:
    key: str
    rows: list[_Row] = field(default_factory=list)
    region_code: str = ""
    address: str = ""
    area_type: str = ""
    existing: int | None = None  # pk of the household already registered

    @property
    def heads(self) -> list[_Row]:
        return [r for r in self.rows if r.relationship == c.Relationship.HEAD]


def _group_rows(rows: list[_Row], table: RosterTable, errors: _Errors) -> list[_Group]:
    by_key = "household_key" if "household_key" in table.columns else "head_id"
    groups: dict[str, _Group] = {}
    previous: _Group | None = None
    for row in rows:
        written = _cell_text(_raw(table, row, by_key))
        key = row.key if by_key == "household_key" else row.head_id
        if written and not key:
            continue  # an invalid head ID number: already reported
        if key:
            group = groups.setdefault(key, _Group(key=key))
        elif previous is not None:
            group = previous  # blank or merged cell: the household of the row above
        else:
            errors.add(row.number, by_key, f"{COLUMN_BY_KEY[by_key].header}不能为空")
            continue
        group.rows.append(row)
        previous = group
    for group in groups.values():
        _group_consolidate(group, table, errors)
    return list(groups.values())


def _group_consolidate(group: _Group, table: RosterTable, errors: _Errors) -> None:
    """Household-level columns need only be filled once per household, but must agree."""
    for attr, label in (
        ("region_code", "区划代码"),
        ("address", "家庭住址"),
        ("area_type", "城乡类别"),
    ):
        first: _Row | None = None
        for row in group.rows:
            value = getattr(row, attr)
            if not value:
                continue
            if first is None:
                first = row
                setattr(group, attr, value)
            elif value != getattr(group, attr):
                errors.add(row.number, attr, f"同一户的{label}不一致（与第{first.number}行不同）")
    first_row = group.rows[0].number
    written = {
        key: any(_cell_text(_raw(table, r, key)) for r in group.rows)
        for key in ("region_code", "area_type")
    }
    if not written["region_code"]:
        errors.add(first_row, "region_code", "请填写村(社区)区划代码（同一户至少在第一行填写）")
    if not written["area_type"]:
        errors.add(first_row, "area_type", "请填写城乡类别（城镇或农村）")
    heads = group.heads
    relationships_read = all(
        r.relationship or not _cell_text(_raw(table, r, "relationship")) for r in group.rows
    )
    if not heads and relationships_read:
        errors.add(first_row, "relationship", "该户没有户主：每户须有且只有一名户主")
    for extra in heads[1:]:
        errors.add(
            extra.number,
            "relationship",
            f"该户有多名户主（第{heads[0].number}行已是户主）：每户须有且只有一名户主",
        )
    if len(heads) == 1 and heads[0].id_number:
        for row in group.rows:
            if row.head_id and row.head_id != heads[0].id_number:
                errors.add(row.number, "head_id", "户主身份证号码与本户户主行的身份证号码不一致")


def _raw(table: RosterTable, row: _Row, key: str) -> Any:
    position = table.columns.get(key)
    cells = table.cells[row.number - 1]
    return cells[position] if position is not None and position < len(cells) else None


def _check_duplicates(groups: list[_Group], errors: _Errors) -> None:
    seen: dict[str, tuple[_Row, _Group]] = {}
    for group in groups:
        for row in group.rows:
            if not row.index:
                continue
            if row.index in seen:
                first, first_group = seen[row.index]
                if first_group is group:
                    message = f"身份证号码与第{first.number}行重复"
                else:
                    message = (
                        f"同一人出现在两个家庭中（第{first.number}行户编号"
                        f"“{first_group.key}”，本行户编号“{group.key}”）"
                    )
                errors.add(row.number, "id_number", message)
            else:
                seen[row.index] = (row, group)


def _check_regions(actor: User | None, groups: list[_Group], errors: _Errors) -> None:
    codes = {r.region_code for g in groups for r in g.rows if r.region_code}
    levels = dict(Region.objects.filter(code__in=codes).values_list("code", "level"))
    for group in groups:
        for row in group.rows:
            code = row.region_code
            if not code:
                continue
            if code not in levels:
                errors.add(row.number, "region_code", f"区划代码“{code}”不存在")
            elif levels[code] != Level.VILLAGE:
                errors.add(row.number, "region_code", f"区划代码“{code}”不是村（社区）级")
            elif actor is not None and not region_in_scope(actor, code):
                errors.add(row.number, "region_code", f"区划代码“{code}”不在您的管辖范围内")


@dataclass(frozen=True)
class _Registered:
    person_id: int
    household_id: int
    household_number: str
    region_code: str
    relationship: str


# Uniqueness of persons is national, so a writer necessarily learns that a number is taken;
# outside their area they learn nothing more, and every attempt (checks too) is audited.
MSG_REGISTERED_ELSEWHERE = (
    "该身份证号码已在系统中登记（不在您的管辖范围内），请联系县级民政部门核实"
)


def _registered(indexes: Sequence[str]) -> dict[str, _Registered]:
    found: dict[str, _Registered] = {}
    for start in range(0, len(indexes), 500):
        chunk = indexes[start : start + 500]
        for pk, index, household_id, number, region, relationship in Person.objects.filter(
            id_number_index__in=chunk
        ).values_list(
            "pk",
            "id_number_index",
            "household_id",
            "household__number",
            "household__region_id",
            "relationship",
        ):
            found[index] = _Registered(pk, household_id, number, region, relationship)
    return found


def _check_registered(
    actor: User | None,
    groups: list[_Group],
    registered: dict[str, _Registered],
    errors: _Errors,
) -> None:
    """The household is the head's: if the head is registered, the file's household is
    that household; anyone else already registered must be in it too."""
    for group in groups:
        heads = group.heads
        head = heads[0] if len(heads) == 1 else None
        target: _Registered | None = registered.get(head.index) if head and head.index else None
        if target is not None and head is not None:
            if actor is not None and not region_in_scope(actor, target.region_code):
                errors.add(head.number, "id_number", MSG_REGISTERED_ELSEWHERE)
                continue
            if target.relationship != c.Relationship.HEAD:
                # Otherwise the file's household would be grafted onto another head's.
                errors.add(
                    head.number,
                    "relationship",
                    f"此人已登记为户号{target.household_number}的家庭成员，不是户主；"
                    "更换户主请在家庭档案中办理",
                )
                continue
            if group.region_code and group.region_code != target.region_code:
                errors.add(
                    head.number,
                    "region_code",
                    f"该户主已登记在户号{target.household_number}（区划代码"
                    f"{target.region_code}），与本行的区划代码不一致",
                )
            group.existing = target.household_id
        for row in group.rows:
            if row is head or not row.index or row.index not in registered:
                continue
            found = registered[row.index]
            if target is not None and found.household_id == target.household_id:
                continue
            if actor is None or region_in_scope(actor, found.region_code):
                message = f"该身份证号码已登记在其他家庭（户号{found.household_number}）"
            else:
                message = MSG_REGISTERED_ELSEWHERE
            errors.add(row.number, "id_number", message)


# -- the import ---------------------------------------------------------------------------


def roster_import(
    *,
    actor: User | None,
    file_name: str,
    content: bytes,
    dry_run: bool = False,
) -> RosterResult:
    """Validate a roster and, if every row is valid and ``dry_run`` is false, import it.

    ``actor`` None is the system (an operator on the command line): every region is in
    scope. Returns the counts, or the errors (then nothing was imported).
    """
    if actor is not None and not user_has_perm(actor, Perm.IMPORT_ROSTER):
        raise PermissionDenied
    result = RosterResult(file_name=file_name, dry_run=dry_run)
    try:
        table = _find_table(_read_sheets(file_name, content))
    except RosterFileError as exc:
        result.errors.append(RowError(None, "", str(exc)))
        return _finish(actor, result, content)
    except _HeaderError as exc:
        result.table = exc.table
        result.errors.extend(exc.errors)
        return _finish(actor, result, content)
    result.table = table
    errors = _Errors(table)

    missing = [col for col in COLUMNS if col.required and col.key not in table.columns]
    if "household_key" not in table.columns and "head_id" in table.columns:
        missing = [col for col in missing if col.key != "household_key"]
    for col in missing:
        errors.add(table.header_row, col.key, f"缺少必填列“{col.header}”，请使用导入模板")
    if missing:
        result.errors = errors.sorted()
        return _finish(actor, result, content)

    positions = [
        position
        for position in range(table.header_row, len(table.cells))
        if any(
            _cell_text(table.cells[position][i])
            for i in table.columns.values()
            if i < len(table.cells[position])
        )
    ]
    result.rows = len(positions)
    if not positions:
        errors.add(None, "", "文件中没有数据行")
    if len(positions) > MAX_ROWS:
        result.errors = [
            RowError(
                None, "", f"文件有{len(positions)}行，每次最多导入{MAX_ROWS}行，请拆分后分批导入"
            )
        ]
        return _finish(actor, result, content)
    rows = [_parse_row(p + 1, table.cells[p], table, errors) for p in positions]

    groups = _group_rows(rows, table, errors)
    result.households = len(groups)
    _check_duplicates(groups, errors)
    _check_regions(actor, groups, errors)
    registered = _registered(sorted({r.index for g in groups for r in g.rows if r.index}))
    _check_registered(actor, groups, registered, errors)
    result.errors = errors.sorted()
    if result.errors:
        return _finish(actor, result, content)

    try:
        with transaction.atomic():
            _write(actor, groups, registered, result, dry_run=dry_run)
    except _WriteError as exc:
        result.errors = [RowError(exc.row, "", exc.message)]
        for attr in (
            "households_created",
            "households_existing",
            "persons_created",
            "persons_skipped",
            "enrolments_created",
            "enrolments_skipped",
        ):
            setattr(result, attr, 0)
    else:
        result.imported = not dry_run
    return _finish(actor, result, content)


class _WriteError(Exception):
    """Something the checks could not foresee (e.g. someone imported the same people at
    the same moment); the transaction has been rolled back."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row
        self.message = message


def _write(
    actor: User | None,
    groups: list[_Group],
    registered: dict[str, _Registered],
    result: RosterResult,
    *,
    dry_run: bool,
) -> None:
    """Create what is missing; with ``dry_run`` only count what would be created."""
    existing_ids = [g.existing for g in groups if g.existing is not None]
    enrolled = set(
        Enrolment.objects.filter(household_id__in=existing_ids).values_list(
            "household_id", "person_id", "category", "start_date"
        )
    )
    households = Household.objects.in_bulk(existing_ids)
    known_persons = Person.objects.in_bulk(
        [r.person_id for r in registered.values() if r.household_id in households]
    )
    for group in groups:
        current = group.rows[0].number
        try:
            household: Household | None = None
            if group.existing is not None:
                household = households[group.existing]
                result.households_existing += 1
            else:
                if not dry_run:
                    household = household_create(
                        actor=actor,
                        region_code=group.region_code,
                        address=group.address,
                        area_type=group.area_type,
                        source=SOURCE,
                    )
                result.households_created += 1
            # The head first, so that the household's head name is set from the start.
            for row in sorted(group.rows, key=lambda r: r.relationship != c.Relationship.HEAD):
                current = row.number
                known = registered.get(row.index)
                person: Person | None = None
                if known is not None:
                    person = known_persons[known.person_id]
                    result.persons_skipped += 1
                else:
                    if not dry_run and household is not None:
                        person = person_create(
                            actor=actor,
                            household=household,
                            name=row.name,
                            id_number=row.id_number,
                            relationship=row.relationship,
                            phone=row.phone,
                            source=SOURCE,
                            **_person_attributes(row),
                        )
                    result.persons_created += 1
                if not row.category or row.start_date is None:
                    continue
                if household is not None and person is not None:
                    key = (household.pk, person.pk, row.category, row.start_date)
                    if key in enrolled:
                        result.enrolments_skipped += 1
                        continue
                    enrolled.add(key)
                if not dry_run and household is not None:
                    enrolment_start(
                        actor=actor,
                        household=household,
                        person=person,
                        category=row.category,
                        start_date=row.start_date,
                        end_date=row.end_date,
                        monthly_amount=row.amount or Decimal(0),
                        source=SOURCE,
                    )
                result.enrolments_created += 1
        except ValidationError as exc:
            raise _WriteError(
                current, "导入时出错，没有导入任何数据：" + "；".join(str(m) for m in exc.messages)
            ) from exc
        except (DatabaseError, PermissionDenied) as exc:
            raise _WriteError(
                current,
                "导入时出错，没有导入任何数据；可能有人同时在导入相同的人员，请稍后重新上传",
            ) from exc


def _person_attributes(row: _Row) -> dict[str, Any]:
    attributes: dict[str, Any] = {}
    if row.health or row.disability_type:
        attributes["health"] = row.health or c.Health.DISABLED
    if row.disability_type:
        attributes["disability_type"] = row.disability_type
        attributes["disability_grade"] = row.disability_grade
    return attributes


def _finish(actor: User | None, result: RosterResult, content: bytes) -> RosterResult:
    """One audit row per attempt, checks included (a check tells whether ID numbers are
    registered): file name, hash and counts only."""
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="registry.roster",
        region_code=(actor.region_id or "") if actor is not None else "",
        detail={
            "file_name": result.file_name[:200],
            "sha256": hashlib.sha256(content).hexdigest(),
            "status": "checked"
            if result.dry_run and not result.errors
            else ("imported" if result.imported else "rejected"),
            **result.counts(),
        },
    )
    return result


# -- the template and the error report ----------------------------------------------------


def roster_template_xlsx() -> bytes:
    """The import template: the data sheet (headers only) and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    required_fill = PatternFill("solid", fgColor="FCE4D6")
    optional_fill = PatternFill("solid", fgColor="EDEDED")
    last_row = 5001
    for position, col in enumerate(TEMPLATE_COLUMNS, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(row=1, column=position, value=col.header)
        cell.font = Font(bold=True, color="C00000" if col.required else "000000")
        cell.fill = required_fill if col.required else optional_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.comment = Comment(("必填。" if col.required else "选填。") + col.help, "jiuzhu")
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(col.width, len(col.header) * 2 + 2)
        if col.number_format:
            dimension.number_format = col.number_format
            for row in range(2, 202):  # also on the cells: not every program reads columns
                sheet.cell(row=row, column=position).number_format = col.number_format
        if col.choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(col.choices) + '"',
                allow_blank=True,
                showErrorMessage=False,
            )
            validation.add(f"{letter}2:{letter}{last_row}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"
    sheet.row_dimensions[1].height = 30

    notes = workbook.create_sheet(HELP_SHEET)
    notes.append(["救助台账导入模板 填写说明"])
    notes["A1"].font = Font(bold=True, size=14)
    notes.append([])
    for line in (
        "1. 在“台账”表中每行填写一个人；同一户的成员填写相同的户编号。",
        "2. 每户有且只有一名户主；区划代码、家庭住址、城乡类别在同一户中只需填写一次。",
        "3. 身份证号码、区划代码、联系电话请保持文本格式，不要转换为数字。",
        "4. 整个文件校验通过才会导入；有任何错误时不导入任何数据，并给出错误报告。",
        "5. 同一文件重复导入不会重复登记：已登记的人员和相同的救助记录会被跳过。",
        "6. 只导入第一张含有表头的工作表；“序号”等其他列会被忽略。",
    ):
        notes.append([line])
    notes.append([])
    notes.append(["列名", "是否必填", "说明"])
    for cell in notes[notes.max_row]:
        cell.font = Font(bold=True)
    for col in COLUMNS:
        notes.append([col.header, "必填" if col.required else "选填", col.help])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def roster_error_report_xlsx(*, result: RosterResult) -> bytes:
    """The file as uploaded (same rows and columns), plus a column of error messages and
    the wrong cells marked in red; a second sheet lists every error."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = DATA_SHEET
    red = PatternFill("solid", fgColor="FFC7CE")
    table = result.table
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in result.errors:
        if error.row is not None:
            by_row[error.row].append(error)
    if table is not None:
        width = max((len(r) for r in table.cells), default=0)
        text_positions = {
            table.columns[col.key]
            for col in COLUMNS
            if col.number_format == "@" and col.key in table.columns
        }
        header_positions = {
            name: i
            for key, i in table.columns.items()
            for name in (table.headers.get(key),)
            if name
        }
        for number, cells in enumerate(table.cells, start=1):
            for position, value in enumerate(cells):
                if value is None or value == "":
                    continue
                out: Any = _cell_text(value) if position in text_positions else value
                cell = sheet.cell(row=number, column=position + 1, value=out)
                if cell.data_type == "f":
                    cell.data_type = "s"  # an uploaded cell never becomes a formula
                if position in text_positions:
                    cell.number_format = "@"
                elif isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
            if number == table.header_row:
                cell = sheet.cell(row=number, column=width + 1, value=MSG_ERROR_COLUMN)
                cell.font = Font(bold=True, color="C00000")
            row_errors = by_row.get(number)
            if row_errors:
                message = "；".join(
                    f"{e.column}：{e.message}" if e.column else e.message for e in row_errors
                )
                sheet.cell(row=number, column=width + 1, value=message).font = Font(color="C00000")
                for e in row_errors:
                    marked = header_positions.get(e.column)
                    if marked is not None:
                        sheet.cell(row=number, column=marked + 1).fill = red
        sheet.column_dimensions[_letter(width + 1)].width = 60
        sheet.freeze_panes = sheet.cell(row=table.header_row + 1, column=1)

    listing = workbook.create_sheet("错误清单")
    listing.append(["行号", "列", "错误信息"])
    for cell in listing[1]:
        cell.font = Font(bold=True)
    for error in result.errors:
        listing.append(
            [error.row if error.row is not None else "整个文件", error.column, error.message]
        )
    listing.column_dimensions["B"].width = 18
    listing.column_dimensions["C"].width = 80

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(max(position, 1))


def error_counts_by_column(errors: Iterable[RowError]) -> list[tuple[str, int]]:
    """How many errors each column has, most first (for the summary on the page)."""
    return Counter(e.column or "—" for e in errors).most_common()
