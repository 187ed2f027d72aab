"""Changing the catalogue safely: upload → validate → preview → activate, every change kept.

Business rules:

* a change is a YAML file of tag versions in the catalogue format; it is validated on upload
  against the catalogue in force (shipped + active changes): every definition must compile, a
  changed tag must carry a higher version number, no cycle may appear;
* a valid change must be previewed (how many enterprises gain or lose each tag, by town, against
  the current tag snapshot) before it can be activated;
* activation is refused if the catalogue changed since the preview (someone else activated
  first): preview again;
* nothing is deleted: invalid and withdrawn changes stay on record; every step is audited.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from shengxin.audit.service import Actor, record
from shengxin.db import utcnow
from shengxin.engine.errors import DefinitionError, DefinitionErrors
from shengxin.errors import Conflict, InvalidInput, NotFound
from shengxin.reference.district import District
from shengxin.tags.catalogue import (
    Catalogue,
    change_errors,
    load_shipped,
    parse_upload,
    validate,
    vocabulary_for,
)
from shengxin.tags.models import TagCatalogueVersion

MAX_UPLOAD_CHARS = 1_000_000
STATUS_LABELS = {"invalid": "校验未通过", "validated": "校验通过，待预览", "previewed": "已预览，待启用",
                 "active": "已启用", "withdrawn": "已撤回"}


@dataclass(frozen=True)
class ChangePublic:
    id: int
    filename: str
    status: str
    status_label: str
    note: str
    tag_ids: list[str]
    errors: list[dict]
    preview: dict | None
    catalogue_version: int | None
    uploaded_by: str
    uploaded_at: datetime
    activated_by: str | None
    activated_at: datetime | None
    content: str


def _public(row: TagCatalogueVersion) -> ChangePublic:
    return ChangePublic(row.id, row.filename, row.status, STATUS_LABELS[row.status], row.note, list(row.tag_ids or []),
                        list(row.errors or []), row.preview, row.catalogue_version, row.uploaded_by, row.uploaded_at,
                        row.activated_by, row.activated_at, row.content)


def _require_table(session: Session) -> None:
    if not inspect(session.get_bind()).has_table(TagCatalogueVersion.__tablename__):
        raise InvalidInput("数据库尚未升级：请先运行 shengxin db upgrade")


def active_changes(session: Session) -> list[TagCatalogueVersion]:
    _require_table(session)
    return list(session.scalars(select(TagCatalogueVersion).where(TagCatalogueVersion.status == "active")
                                .order_by(TagCatalogueVersion.catalogue_version)))


def catalogue_version(session: Session) -> int:
    """The number of the catalogue in force (0 = shipped)."""
    _require_table(session)
    return session.scalar(select(func.max(TagCatalogueVersion.catalogue_version))) or 0


def effective_catalogue(session: Session, district: District) -> Catalogue:
    """The shipped catalogue with every active change applied, in activation order."""
    catalogue = load_shipped(district)
    changes = active_changes(session)
    for row in changes:
        catalogue = catalogue.merged(parse_upload(row.content, f"change #{row.id} ({row.filename})", catalogue, district))
    if changes:
        catalogue.label = f"v{changes[-1].catalogue_version}"
    return catalogue


def check_upload(base: Catalogue, text: str, filename: str, district: District) -> tuple[Catalogue | None, list[DefinitionError]]:
    """Validate an uploaded change against ``base``; returns the change and every error found."""
    if len(text) > MAX_UPLOAD_CHARS:
        raise InvalidInput(f"文件过大（超过 {MAX_UPLOAD_CHARS} 个字符），请拆分后上传", where=filename)
    try:
        change = parse_upload(text, filename, base, district)
    except DefinitionErrors as exc:
        return None, exc.errors
    errors = change_errors(base, change)
    merged = base.merged(change)
    errors += validate(merged, vocabulary_for(district))
    return change, errors


def upload(session: Session, district: District, filename: str, text: str, actor: Actor, note: str = "") -> ChangePublic:
    """Store an uploaded change with its validation result (status ``validated`` or ``invalid``)."""
    _require_table(session)
    base = effective_catalogue(session, district)
    change, errors = check_upload(base, text, filename, district)
    row = TagCatalogueVersion(
        filename=filename[:255], content=text, content_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        status="invalid" if errors else "validated", note=note[:500],
        tag_ids=sorted({v.id for v in change.versions}) if change else [],
        errors=[e.to_dict() for e in errors], base_fingerprint=base.fingerprint(), uploaded_by=actor.name,
    )
    session.add(row)
    session.flush()
    record(session, actor, "tags.catalogue.upload", "tag_catalogue_version", str(row.id),
           {"filename": row.filename, "status": row.status, "tags": row.tag_ids, "errors": len(errors)})
    return _public(row)


def get_change(session: Session, change_id: int) -> TagCatalogueVersion:
    _require_table(session)
    row = session.get(TagCatalogueVersion, change_id)
    if row is None:
        raise NotFound(f"没有编号为 {change_id} 的标签定义变更")
    return row


def list_changes(session: Session) -> list[ChangePublic]:
    _require_table(session)
    rows = session.scalars(select(TagCatalogueVersion).order_by(TagCatalogueVersion.id.desc()))
    return [_public(r) for r in rows]


def preview_change(session: Session, change_id: int, district: District, analytic_dir: Path, actor: Actor) -> ChangePublic:
    """Preview a validated change against the current tag snapshot and record the result."""
    from shengxin.tags.preview import preview

    row = get_change(session, change_id)
    if row.status not in ("validated", "previewed"):
        raise Conflict(f"变更 #{row.id} 当前状态为“{STATUS_LABELS[row.status]}”，不能预览")
    base = effective_catalogue(session, district)
    change, errors = check_upload(base, row.content, row.filename, district)
    if errors or change is None:
        row.status, row.errors = "invalid", [e.to_dict() for e in errors]
        session.flush()
        raise Conflict(f"变更 #{row.id} 在当前标签目录下已不能通过校验，请修改后重新上传")
    result = preview(base, change, district, analytic_dir)
    row.preview = result
    row.status = "previewed"
    row.base_fingerprint = base.fingerprint()
    row.previewed_at = utcnow()
    session.flush()
    record(session, actor, "tags.catalogue.preview", "tag_catalogue_version", str(row.id),
           {"gained": sum(t["gained"] for t in result["tags"]), "lost": sum(t["lost"] for t in result["tags"])})
    return _public(row)


def activate(session: Session, change_id: int, district: District, actor: Actor) -> ChangePublic:
    """Put a previewed change in force as the next catalogue version."""
    row = get_change(session, change_id)
    if row.status != "previewed":
        raise Conflict(f"变更 #{row.id} 当前状态为“{STATUS_LABELS[row.status]}”，只有已预览的变更可以启用")
    base = effective_catalogue(session, district)
    if base.fingerprint() != row.base_fingerprint:
        raise Conflict(f"预览之后标签目录已有其他变更启用，请重新预览变更 #{row.id} 再启用")
    change, errors = check_upload(base, row.content, row.filename, district)
    if errors or change is None:
        raise Conflict(f"变更 #{row.id} 已不能通过校验，请重新上传")
    row.status = "active"
    row.catalogue_version = catalogue_version(session) + 1
    row.result_fingerprint = base.merged(change).fingerprint()
    row.activated_by = actor.name
    row.activated_at = utcnow()
    session.flush()
    record(session, actor, "tags.catalogue.activate", "tag_catalogue_version", str(row.id),
           {"catalogue_version": row.catalogue_version, "tags": row.tag_ids})
    return _public(row)


def withdraw(session: Session, change_id: int, actor: Actor) -> ChangePublic:
    row = get_change(session, change_id)
    if row.status not in ("validated", "previewed"):
        raise Conflict(f"变更 #{row.id} 当前状态为“{STATUS_LABELS[row.status]}”，不能撤回")
    row.status = "withdrawn"
    session.flush()
    record(session, actor, "tags.catalogue.withdraw", "tag_catalogue_version", str(row.id), {})
    return _public(row)
