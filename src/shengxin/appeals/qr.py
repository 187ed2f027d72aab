"""The enterprise appeal code (诉求码): a QR code whose URL opens a form bound to one enterprise.

Security reasoning (docs/decisions/0010-appeal-intake-credentials.md): the poster hangs in a factory or
office; whoever scans it should be able to file an appeal for that enterprise without an account
(staff on the shop floor have none), but must not be able to file for another enterprise or read
the enterprise's appeals. So:

* the URL carries a token signed with the platform's secret key (itsdangerous, HMAC-SHA256, a
  salt of its own) that names the USCC and a *generation* number; it cannot be forged or edited;
* it expires ``appeal_qr_max_age_days`` after issue, and reissuing the code (a lost or leaked
  poster) raises the generation, so every earlier token stops working at once;
* the token only lets its holder *submit* an appeal for that enterprise (channel ``qr``); the
  confirmation shows the appeal code, never the enterprise's other appeals — reading them needs the
  enterprise login.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from shengxin.appeals.models import AppealQrCode
from shengxin.audit.service import Actor, record
from shengxin.config import Settings
from shengxin.enterprises import uscc as uscc_rules
from shengxin.errors import Forbidden, InvalidInput, NotFound
from shengxin.reference.district import District

SALT = "shengxin.appeals.qr"


@dataclass(frozen=True)
class QrBinding:
    """Who a valid token binds the form to."""

    uscc: str
    enterprise_name: str
    town_code: str | None
    generation: int


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def issue(session: Session, settings: Settings, district: District, uscc: str, enterprise_name: str,
          town_code: str | None, actor: Actor) -> tuple[AppealQrCode, str]:
    """Issue (or reissue, revoking earlier codes) the appeal code of an enterprise; returns the row
    and its token."""
    check = uscc_rules.check(uscc or "")
    if check.severity != "ok":
        raise InvalidInput(f"统一社会信用代码 {check.code} 无效：{check.reason}", where="uscc")
    name = (enterprise_name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("请填写企业名称（不超过 200 字）", where="enterprise_name")
    town = (town_code or "").strip() or None
    if town is not None and district.town(town) is None:
        raise InvalidInput(f"镇街代码 {town} 不属于{district.name}", where="town_code")
    row = session.scalar(select(AppealQrCode).where(AppealQrCode.uscc == check.code))
    if row is None:
        row = AppealQrCode(uscc=check.code, enterprise_name=name, town_code=town, generation=1,
                           issued_by=actor.name)
        session.add(row)
    else:
        row.generation += 1
        row.enterprise_name, row.town_code, row.issued_by = name, town, actor.name
        from shengxin.db import utcnow

        row.issued_at = utcnow()
    session.flush()
    record(session, actor, "appeal.qr.issue", "appeal_qr_code", check.code,
           {"generation": row.generation, "enterprise_name": name, "town_code": town})
    return row, token_for(settings, row)


def token_for(settings: Settings, row: AppealQrCode) -> str:
    return _serializer(settings).dumps({"u": row.uscc, "g": row.generation})


def verify(session: Session, settings: Settings, token: str) -> QrBinding:
    """The binding of a valid, current token; otherwise :class:`Forbidden` saying why."""
    try:
        data = _serializer(settings).loads(token, max_age=settings.appeal_qr_max_age_days * 86400)
    except SignatureExpired:
        raise Forbidden("此诉求码已过期，请联系镇街或区企业服务中心重新领取") from None
    except BadSignature:
        raise Forbidden("诉求码无效，请重新扫描企业张贴的二维码") from None
    if not isinstance(data, dict) or "u" not in data or "g" not in data:
        raise Forbidden("诉求码无效，请重新扫描企业张贴的二维码")
    row = session.scalar(select(AppealQrCode).where(AppealQrCode.uscc == data["u"]))
    if row is None or row.generation != data["g"]:
        raise Forbidden("此诉求码已作废（企业已领取新码），请扫描最新的二维码")
    return QrBinding(row.uscc, row.enterprise_name, row.town_code, row.generation)


def current(session: Session, uscc: str) -> AppealQrCode:
    row = session.scalar(select(AppealQrCode).where(AppealQrCode.uscc == uscc))
    if row is None:
        raise NotFound(f"企业 {uscc} 尚未生成诉求码")
    return row


def svg(url: str, scale: int = 6) -> str:
    """The QR code as an inline SVG document (error correction level M)."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=scale, border=2, xmldecl=False, svgns=True,
                                    title="诉求码")
    return buf.getvalue().decode("utf-8")


def png(url: str, scale: int = 10) -> bytes:
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def list_codes(session: Session, town_code: str | None = None) -> list[AppealQrCode]:
    q = select(AppealQrCode).order_by(AppealQrCode.issued_at.desc())
    if town_code:
        q = q.where(AppealQrCode.town_code == town_code)
    return list(session.scalars(q))
