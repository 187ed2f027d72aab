"""Bank files: the payment file we send (CSV or XLSX, fixed columns, UTF-8 or GBK) and reading the
result file the bank sends back (and account lists) with row-level problems.

Payment file columns, in this order (header row in Chinese)::

    序号, 明细编号, 统一社会信用代码, 收款户名, 收款账号, 开户银行, 金额（元）, 用途

Rules:

* amounts are written from integer fen as yuan with exactly two decimals (``12345`` fen → ``123.45``),
  never through a float; in XLSX the amount cell is text, so Excel cannot round it;
* UTF-8 CSV starts with a BOM (Excel opens it correctly); GBK has none; a name that GBK cannot encode
  is an error naming the line, never a silently replaced character;
* reading accepts CSV in UTF-8 (with or without BOM) or GBK, and XLSX; columns are found by their header
  (order free, extra columns ignored); a missing required column is an error naming it.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.service import Principal
from shengxin.errors import InvalidInput, NotFound
from shengxin.payouts.models import PayoutBatch, PayoutBatchLine, PayoutItem, PayoutRound
from shengxin.payouts.permissions import require_manage

PAYMENT_COLUMNS = ("序号", "明细编号", "统一社会信用代码", "收款户名", "收款账号", "开户银行", "金额（元）", "用途")
RESULT_COLUMNS = ("明细编号", "金额（元）", "状态", "失败原因", "银行流水号")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class ExportedFile:
    filename: str
    content_type: str
    content: bytes


def yuan(fen: int) -> str:
    """Integer fen as a yuan text with two decimals, exact."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def parse_yuan(text, where: str) -> int:
    """A yuan amount (text or number, at most two decimals, thousands separators allowed) → fen."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "").replace("¥", "")
    raw = raw.replace("元", "")
    if not raw:
        raise InvalidInput("金额为空", where=where)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"金额 {text!r} 不是数字", where=where) from None
    if not value.is_finite():
        raise InvalidInput(f"金额 {text!r} 不是数字", where=where)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise InvalidInput(f"金额 {text!r} 超过两位小数", where=where)
    return int(fen)


def export_batch(session: Session, batch_id: int, principal: Principal, *, fmt: str = "csv",
                 encoding: str = "utf-8") -> ExportedFile:
    """The payment file of one batch."""
    batch = session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(f"没有编号为 {batch_id} 的支付批次", where="batch_id")
    r = session.get(PayoutRound, batch.round_id)
    require_manage(principal, r.department_code)
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput("格式应为 csv 或 xlsx", where="format")
    if encoding not in ("utf-8", "gbk"):
        raise InvalidInput("编码应为 utf-8 或 gbk", where="encoding")
    rows = session.execute(
        select(PayoutBatchLine.line_no, PayoutBatchLine.ref, PayoutItem.uscc, PayoutBatchLine.account_name,
               PayoutBatchLine.account_no, PayoutBatchLine.bank_name, PayoutBatchLine.amount_fen)
        .join(PayoutItem, PayoutItem.id == PayoutBatchLine.item_id)
        .where(PayoutBatchLine.batch_id == batch_id).order_by(PayoutBatchLine.line_no)).all()
    purpose = f"{r.policy_title}（{r.policy_id}）"[:60]
    table = [[str(n), ref, uscc, name, no, bank, yuan(fen), purpose] for n, ref, uscc, name, no, bank, fen in rows]
    stem = f"payout-round{r.id}-batch{batch_id}"
    if fmt == "xlsx":
        return ExportedFile(f"{stem}.xlsx", XLSX_TYPE, _xlsx(table))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(PAYMENT_COLUMNS)
    writer.writerows(table)
    text = out.getvalue()
    if encoding == "gbk":
        try:
            content = text.encode("gbk")
        except UnicodeEncodeError as exc:
            line = text[:exc.start].count("\n") + 1
            raise InvalidInput(f"第 {line} 行含有 GBK 无法表示的字符 {text[exc.start:exc.end]!r}，请改用 UTF-8",
                               where="encoding") from None
        return ExportedFile(f"{stem}-gbk.csv", "text/csv; charset=gbk", content)
    return ExportedFile(f"{stem}.csv", "text/csv; charset=utf-8", text.encode("utf-8-sig"))


def _xlsx(table: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("支付明细")
    ws.append(list(PAYMENT_COLUMNS))
    for row in table:
        ws.append(row)  # every cell is text: account numbers keep leading zeros, amounts stay exact
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def decode(content: bytes, filename: str) -> str:
    """CSV bytes as text: UTF-8 (BOM optional) or GBK."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="strict")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return content.decode("gbk")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"无法识别文件编码（既不是 UTF-8 也不是 GBK，第 {exc.start} 字节）", where=filename) from None


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def check_size(content: bytes, filename: str) -> None:
    """Refuse files over ``payout_bank_file_max_bytes``."""
    from shengxin.config import get_settings

    limit = get_settings().payout_bank_file_max_bytes
    if len(content) > limit:
        raise InvalidInput(f"文件大小 {len(content) / 1048576:.1f} MB 超过上限 {limit / 1048576:.0f} MB，请拆分后导入",
                           where=filename)


def read_table(filename: str, content: bytes, required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict]]]:
    """Rows of a CSV/XLSX file as ``(row number in the file, {header: text})``; blank rows skipped."""
    if not content:
        raise InvalidInput("文件是空的", where=filename)
    if content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the same user error
            raise InvalidInput(f"无法读取 Excel 文件：{exc}", where=filename) from None
        raw = [[_cell(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
        wb.close()
    else:
        raw = list(csv.reader(io.StringIO(decode(content, filename))))
    if not raw:
        raise InvalidInput("文件没有表头", where=filename)
    header = [re.sub(r"\s+", "", h).replace("(", "（").replace(")", "）") for h in raw[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInput(f"缺少列：{'、'.join(missing)}（表头应包含 {'、'.join(required)}）", where=f"{filename}:1")
    dupes = sorted({h for h in header if h and header.count(h) > 1})
    if dupes:
        raise InvalidInput(f"表头重复：{'、'.join(dupes)}", where=f"{filename}:1")
    rows = []
    for n, values in enumerate(raw[1:], start=2):
        if not any(v.strip() for v in values):
            continue
        rows.append((n, {h: (values[i].strip() if i < len(values) else "") for i, h in enumerate(header) if h}))
    return header, rows
