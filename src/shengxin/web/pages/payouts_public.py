"""The public publicity page (公示) of no-application payouts: no login.

Rules: the public list shows the enterprise's name, a masked USCC, its town and the amount — never a
bank account; anyone may lodge an objection while the round is in publicity (the form carries the
session's CSRF token like every form, and the domain limits how often one client may lodge); staff
must answer every objection before the round can be approved.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from shengxin.errors import Conflict, InvalidInput
from shengxin.payouts import publicity
from shengxin.web.deps import get_db
from shengxin.web.pages.payouts_format import install_filters
from shengxin.web.security import PUBLIC
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 100

install_filters()


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/public/payouts")
def public_rounds(request: Request, db: Session = Depends(get_db), _=Depends(PUBLIC)):
    return render(request, "payouts_public_list.html", {"rounds": publicity.public_rounds(db)})


def _round(request: Request, db: Session, round_id: int, *, page: int = 1, form: dict | None = None,
           error: str | None = None, lodged: bool = False, status_code: int = 200):
    page = max(1, page)
    r, rows, total = publicity.public_list(db, round_id, page=page, page_size=PAGE_SIZE)
    return render(request, "payouts_public_round.html", {
        "r": r, "rows": rows, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
        "form": form or {}, "error": error, "lodged": lodged}, status_code=status_code)


@router.get("/public/payouts/{round_id}")
def public_round(round_id: int, request: Request, page: int = 1, lodged: int = 0, db: Session = Depends(get_db),
                 _=Depends(PUBLIC)):
    return _round(request, db, round_id, page=page, lodged=bool(lodged))


@router.post("/public/payouts/{round_id}/objection")
def public_objection(round_id: int, request: Request, text: str = Form(""), item_ref: str = Form(""),
                     contact: str = Form(""), db: Session = Depends(get_db), _=Depends(PUBLIC)):
    form = {"text": text, "item_ref": item_ref, "contact": contact}
    try:
        publicity.lodge_objection(db, round_id, text.strip(), item_ref=item_ref.strip().upper() or None,
                                  contact=contact.strip(), client=_client(request))
    except (InvalidInput, Conflict) as exc:
        db.rollback()
        # the domain's rate limit is a Conflict on the client: 429 Too Many Requests
        status = 422 if isinstance(exc, InvalidInput) else (429 if exc.where == "client" else 409)
        return _round(request, db, round_id, form=form, error=str(exc), status_code=status)
    db.commit()
    return RedirectResponse(f"/public/payouts/{round_id}?lodged=1#objection", status_code=303)
