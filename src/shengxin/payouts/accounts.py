"""Enterprise bank accounts: on file, confirmed or changed by the enterprise, imported by staff.

Rules:

* an account is never edited: a change is a new row, and the newest row of an enterprise is "on file";
* an account number is 8–32 digits (spaces and dashes are dropped); holder and bank names are required;
* the enterprise confirms (or changes) the account of its own item while the round is in review,
  publicity or account confirmation; staff may use the account on file (``rounds.confirm_accounts``);
* the bank file never leaves the department: the public list and other enterprises never see an account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.db import utcnow
from shengxin.enterprises import uscc as uscc_rules
from shengxin.errors import Conflict, Forbidden, InvalidInput, NotFound
from shengxin.payouts import ledger as L
from shengxin.payouts.models import PayoutAccount, PayoutItem, PayoutRound
from shengxin.payouts.views import AccountPublic, ItemPublic

CONFIRMABLE_ROUND_STATES = ("review", "publicity", "confirming")
ACCOUNT_COLUMNS = ("统一社会信用代码", "收款户名", "收款账号", "开户银行")


def clean_account_no(value: str, where: str = "account_no") -> str:
    """Digits only, 8–32 of them."""
    no = re.sub(r"[\s-]", "", str(value or ""))
    if not re.fullmatch(r"\d{8,32}", no):
        raise InvalidInput(f"银行账号 {value!r} 无效：应为 8–32 位数字", where=where)
    return no


def _clean(account_name: str, account_no: str, bank_name: str, where: str = "") -> tuple[str, str, str]:
    name, bank = (account_name or "").strip(), (bank_name or "").strip()
    if not name:
        raise InvalidInput("收款户名不能为空", where=f"{where}account_name")
    if not bank:
        raise InvalidInput("开户银行不能为空", where=f"{where}bank_name")
    if len(name) > 200 or len(bank) > 200:
        raise InvalidInput("户名或开户银行过长（最多 200 字）", where=f"{where}account_name")
    return name, clean_account_no(account_no, f"{where}account_no"), bank


def _latest(session: Session, uscc: str) -> PayoutAccount | None:
    return session.scalar(select(PayoutAccount).where(PayoutAccount.uscc == uscc).order_by(PayoutAccount.id.desc())
                          .limit(1))


def account_on_file(session: Session, uscc: str) -> AccountPublic | None:
    """The newest account of an enterprise."""
    return AccountPublic.of(_latest(session, uscc))


def _store(session: Session, uscc: str, name: str, no: str, bank: str, source: str, actor: str) -> PayoutAccount:
    latest = _latest(session, uscc)
    if latest is not None and (latest.account_name, latest.account_no, latest.bank_name) == (name, no, bank):
        return latest
    row = PayoutAccount(uscc=uscc, account_name=name, account_no=no, bank_name=bank, source=source, created_by=actor)
    session.add(row)
    session.flush()
    with L.chain(session) as w:
        w.event("account", row.id, "set", actor, detail=f"uscc={uscc} source={source} no=*{no[-4:]}")
    return row


def set_account(session: Session, principal: Principal, uscc: str, *, account_name: str, account_no: str,
                bank_name: str) -> AccountPublic:
    """An enterprise records its own account; staff with payout rights may record any."""
    if principal.role is Role.ENTERPRISE:
        if principal.uscc != uscc:
            raise Forbidden("企业只能登记本企业的收款账户")
        source = "enterprise"
    elif principal.role in (Role.ADMIN, Role.DEPARTMENT):
        source = "staff"
    else:
        raise Forbidden("只有企业本身、部门工作人员或区级管理员可以登记收款账户")
    name, no, bank = _clean(account_name, account_no, bank_name)
    return AccountPublic.of(_store(session, uscc, name, no, bank, source, principal.username))


def confirm_item_account(session: Session, item_id: int, principal: Principal, *, account_name: str | None = None,
                         account_no: str | None = None, bank_name: str | None = None) -> ItemPublic:
    """The enterprise confirms the account on file for its item, or gives a new one (all three fields)."""
    from shengxin.payouts.rounds import item_views

    item = session.get(PayoutItem, item_id)
    if item is None or principal.role is not Role.ENTERPRISE or principal.uscc != item.uscc:
        if item is not None and principal.role is not Role.ENTERPRISE:
            raise Forbidden("收款账户由企业本身确认；工作人员请使用“确认账户”步骤采用备案账户")
        raise NotFound(f"没有编号为 {item_id} 的兑现明细", where="item_id")
    r = session.get(PayoutRound, item.round_id)
    open_no_application = r.status in CONFIRMABLE_ROUND_STATES and item.status == "proposed"
    open_instant = r.mode == "instant_application" and item.status == "approved"
    if not (open_no_application or open_instant):
        raise Conflict("本笔兑现已进入审批或支付，不能再更改收款账户；如有问题请联系责任部门", where="status")
    given = [account_name, account_no, bank_name]
    if any(given):
        if not all(given):
            raise InvalidInput("更换账户需同时填写收款户名、收款账号和开户银行", where="account")
        name, no, bank = _clean(account_name, account_no, bank_name)
        account = _store(session, item.uscc, name, no, bank, "enterprise", principal.username)
    else:
        account = _latest(session, item.uscc)
        if account is None:
            raise InvalidInput("还没有备案的收款账户，请填写收款户名、收款账号和开户银行", where="account")
    item.account_id = account.id
    item.account_confirmed_by = principal.username
    item.account_confirmed_at = utcnow()
    with L.chain(session) as w:
        w.event("item", item.id, "confirm_account", principal.username, from_status=item.status,
                to_status=item.status, detail=f"account={account.id}")
    session.flush()
    return item_views(session, [item])[0]


@dataclass
class AccountImportResult:
    created: int = 0
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"created": self.created, "unchanged": self.unchanged, "errors": self.errors}


def import_accounts(session: Session, principal: Principal, filename: str, content: bytes) -> AccountImportResult:
    """Accounts on file from a CSV/XLSX with columns 统一社会信用代码, 收款户名, 收款账号, 开户银行.
    Bad rows are reported (row, field, message) and skipped; good rows are stored."""
    from shengxin.payouts.bankfile import read_table

    if principal.role not in (Role.ADMIN, Role.DEPARTMENT):
        raise Forbidden("只有部门工作人员或区级管理员可以导入收款账户")
    from shengxin.payouts.bankfile import check_size

    check_size(content, filename)
    header, rows = read_table(filename, content, ACCOUNT_COLUMNS)
    out = AccountImportResult()
    seen: set[str] = set()
    for n, row in rows:
        where = f"{filename}:{n}:"
        try:
            chk = uscc_rules.check(row.get("统一社会信用代码", ""))
            if chk.severity == "error":
                raise InvalidInput(f"统一社会信用代码无效：{chk.reason}", where=f"{where}统一社会信用代码")
            code = chk.code
            if code in seen:
                raise InvalidInput("同一文件中重复的企业", where=f"{where}统一社会信用代码")
            name, no, bank = _clean(row.get("收款户名", ""), row.get("收款账号", ""), row.get("开户银行", ""), where)
        except InvalidInput as exc:
            out.errors.append({"row": n, "field": (exc.where or "").rsplit(":", 1)[-1], "message": exc.message})
            continue
        seen.add(code)
        latest = _latest(session, code)
        if latest is not None and (latest.account_name, latest.account_no, latest.bank_name) == (name, no, bank):
            out.unchanged += 1
            continue
        _store(session, code, name, no, bank, "import", principal.username)
        out.created += 1
    session.flush()
    return out


def items_for_enterprise(session: Session, principal: Principal) -> list[ItemPublic]:
    """An enterprise's own payout items in every round, newest first."""
    from shengxin.payouts.rounds import item_views

    if principal.role is not Role.ENTERPRISE or not principal.uscc:
        raise Forbidden("只有企业用户可以查看本企业的兑现")
    items = list(session.scalars(select(PayoutItem).where(PayoutItem.uscc == principal.uscc)
                                 .order_by(PayoutItem.id.desc())))
    return item_views(session, items)
