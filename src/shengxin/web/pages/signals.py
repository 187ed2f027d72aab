"""Town desk pages: the list of signals with feedback forms, one signal with its evidence."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.accounts.roles import STAFF_ROLES
from shengxin.accounts.service import Principal
from shengxin.errors import Conflict, InvalidInput
from shengxin.signals import followup, queries, service
from shengxin.signals.catalogue import (
    KINDS,
    METRIC_LABELS,
    METRIC_UNITS,
    SEVERITIES,
    load_catalogue,
)
from shengxin.web.api.signals import (
    ACTORS,
    desk_filter,
    signal_filter,
    visible_signal,
    with_cases,
)
from shengxin.web.deps import get_db
from shengxin.web.nav import Section, register
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 30

register(Section("signals", "预警信号", "/signals", frozenset(STAFF_ROLES)), before="users")


def _safe_next(target: str) -> str:
    """Only same-site relative paths are followed after a form post."""
    return target if target.startswith("/signals") and "//" not in target else "/signals"


@router.get("/signals")
def signals_page(request: Request, signal: str = "", kind: str = "", severity: str = "", town: str = "",
                 state: str = "recent", page: int = 1, db: Session = Depends(get_db),
                 principal: Principal = Depends(access(STAFF_ROLES))):
    catalogue = load_catalogue()
    snapshot = service.current_snapshot(request.app.state.settings)
    context = {
        "catalogue": catalogue, "kinds": KINDS, "severities": SEVERITIES, "statuses": followup.STATUS_LABELS,
        "dismiss_reasons": followup.DISMISS_REASONS, "snapshot": snapshot, "rows": [], "total": 0,
        "page": max(page, 1), "pages": 1, "error": None,
        "form": {"signal": signal, "kind": kind, "severity": severity, "town": town, "state": state},
        "town_locked": followup.visible_town(principal) is not None,
        "can_act": principal.role in ACTORS, "precision": followup.measured_precision(db, followup.visible_town(principal)),
        "names": {d.id: d.name for d in catalogue},
    }
    if snapshot is None:
        context["error"] = "还没有信号快照：请数据管理员运行 shengxin signals detect 检测信号。"
        return render(request, "signals_list.html", context)
    desk_filter(principal, town or None)  # another town's desk is refused (403), not a form error
    try:
        filt = signal_filter(principal, snapshot, signal=signal, kind=kind, severity=severity, town=town,
                             state=state, new=None, uscc=None)
        rows, total = queries.list_signals(snapshot, filt, limit=PAGE_SIZE, offset=(max(page, 1) - 1) * PAGE_SIZE)
    except InvalidInput as exc:
        context["error"] = str(exc)
        return render(request, "signals_list.html", context, status_code=422)
    query = {k: v for k, v in context["form"].items() if v}
    context.update(rows=with_cases(db, rows), total=total, pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
                   here=f"/signals?{urlencode(dict(query, page=max(page, 1)))}", query=query)
    return render(request, "signals_list.html", context)


@router.get("/signals/{key}")
def signal_page(key: str, request: Request, db: Session = Depends(get_db),
                principal: Principal = Depends(access(STAFF_ROLES))):
    row, snapshot_id = visible_signal(request, principal, key)
    definition = load_catalogue().get(row["signal"])
    case = followup.cases_for(db, [key]).get(key)
    status = case.status if case else "open"
    return render(request, "signals_detail.html", {
        "s": row, "d": definition, "snapshot_id": snapshot_id, "case": case, "status": status,
        "statuses": followup.STATUS_LABELS, "next_statuses": sorted(followup.TRANSITIONS[status]),
        "dismiss_reasons": followup.DISMISS_REASONS, "history": followup.history(db, key),
        "can_act": principal.role in ACTORS, "error": None,
        "metric_label": METRIC_LABELS.get(row.get("series_metric") or "", ""),
        "metric_unit": METRIC_UNITS.get(row.get("series_metric") or "", ""),
    })


@router.post("/signals/{key}/feedback")
def feedback_form(key: str, request: Request, status: str = Form(...), reason: str = Form(""),
                  note: str = Form(""), next: str = Form("/signals"), db: Session = Depends(get_db),
                  principal: Principal = Depends(access(*ACTORS))):
    row, snapshot_id = visible_signal(request, principal, key)
    try:
        if status not in ("confirmed", "dismissed", "handled"):
            raise InvalidInput("请选择处理结果：确认、排除或已处置", where="status")
        followup.give_feedback(db, principal, row, snapshot_id, status, reason or None, note or None)
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        definition = load_catalogue().get(row["signal"])
        case = followup.cases_for(db, [key]).get(key)
        current = case.status if case else "open"
        return render(request, "signals_detail.html", {
            "s": row, "d": definition, "snapshot_id": snapshot_id, "case": case, "status": current,
            "statuses": followup.STATUS_LABELS, "next_statuses": sorted(followup.TRANSITIONS[current]),
            "dismiss_reasons": followup.DISMISS_REASONS, "history": followup.history(db, key),
            "can_act": True, "error": str(exc),
            "metric_label": METRIC_LABELS.get(row.get("series_metric") or "", ""),
            "metric_unit": METRIC_UNITS.get(row.get("series_metric") or "", ""),
        }, status_code=409 if isinstance(exc, Conflict) else 422)
    db.commit()
    return RedirectResponse(_safe_next(next), status_code=303)
