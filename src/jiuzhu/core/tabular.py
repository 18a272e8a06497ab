"""Reading the spreadsheets civil servants send: Excel (any sheet) and CSV in the
encodings Chinese Excel writes. Messages are Chinese: they go straight to the user."""

from __future__ import annotations

import csv
import io
from typing import Any


class UnreadableFile(Exception):
    """The file cannot be read at all (type, encoding, damage, password)."""


def read_excel_sheets(content: bytes) -> list[list[list[Any]]]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheets = []
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            # No skipping of empty leading rows: row numbers must match what Excel shows.
            rows = sheet.to_python(skip_empty_area=False)
            sheets.append([list(r) for r in rows])
    except python_calamine.PasswordError as exc:
        raise UnreadableFile("Excel文件设置了密码，请取消密码后重新上传。") from exc
    except Exception as exc:  # calamine raises several kinds for damaged files
        raise UnreadableFile(
            "无法读取Excel文件，文件可能已损坏，请用Excel打开后另存为.xlsx再上传。"
        ) from exc
    return sheets


def read_csv_rows(content: bytes) -> list[list[Any]]:
    text = None
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        # UTF-8 (with or without BOM) first; Chinese Excel saves CSV in GBK, which
        # GB18030 contains.
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise UnreadableFile("无法识别CSV文件的编码，请另存为“CSV UTF-8”或GBK编码的CSV后重新上传。")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    return [list(r) for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]


def _safe_cell(value: Any) -> Any:
    """No spreadsheet formula from data (CSV/Excel injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def write_xlsx(rows: list[list[Any]], *, title: str) -> bytes:
    """One sheet of rows as an Excel file (numbers stay numbers)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]
    for row in rows:
        sheet.append([_safe_cell(cell) for cell in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def write_csv(rows: list[list[Any]]) -> bytes:
    """CSV with a UTF-8 BOM: Excel in China opens CSV as GBK unless told otherwise."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[_safe_cell(cell) for cell in row] for row in rows])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
