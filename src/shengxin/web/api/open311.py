"""Open311 GeoReport v2 compatible API: hotline and other systems push appeals in and poll them.

Endpoints (JSON only): ``GET services.json``, ``GET services/{service_code}.json``,
``POST requests.json``, ``GET requests.json``, ``GET requests/{service_request_id}.json``.

* Every call needs ``api_key`` (query or form field, or the ``X-Api-Key`` header); keys are
  created by the district admin and stored hashed. A key sees only the requests it submitted.
* Services are the taxonomy's subcategories: ``service_code`` = subcategory code, ``group`` =
  category name; ``metadata`` is true and the definition lists the enterprise attributes
  (``attribute[uscc]``, ``attribute[enterprise_name]``, ``attribute[town_code]``).
* Errors follow the spec: an HTTP status with a JSON list of ``{"code", "description"}``; invalid
  input is 400, a missing or wrong key 403, an unknown id 404.
* Deviation: a location (lat/long, address) is optional — enterprise appeals are not always about
  a place.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from shengxin.appeals import service as svc
from shengxin.appeals.apikeys import KnownKeys, verify_key
from shengxin.appeals.categories import load_taxonomy
from shengxin.appeals.deadlines import aware
from shengxin.appeals.models import Appeal
from shengxin.appeals.states import OUTCOME_LABELS, STATUS_LABELS, TERMINAL
from shengxin.appeals.units import unit_name
from shengxin.audit.service import Actor
from shengxin.errors import DomainError, Forbidden, InvalidInput, NotFound
from shengxin.web.api.appeals import appeals_runtime
from shengxin.web.deps import get_db
from shengxin.web.errors import STATUS
from shengxin.workdays.calendar import TZ
from shengxin.web.security import CredentialAccess

MAX_RESULTS = 1000
DEFAULT_WINDOW_DAYS = 90


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse([{"code": status, "description": message}], status_code=status)


class Open311Route(APIRoute):
    """Answers errors as the GeoReport spec's list of ``{code, description}``."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def wrapped(request: Request):
            try:
                return await handler(request)
            except DomainError as exc:
                status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
                status = {422: 400, 401: 403}.get(status, status)
                return _error(status, str(exc))
            except RequestValidationError as exc:
                parts = [f"{'.'.join(str(x) for x in e.get('loc', ())[1:])}: {e.get('msg')}" for e in exc.errors()]
                return _error(400, "; ".join(parts) or "invalid request")

        return wrapped


@dataclass(frozen=True)
class ApiClient:
    """The system a valid key belongs to."""

    id: int
    name: str


def _check_key(request: Request, key: str) -> ApiClient:
    # A session of its own, closed at once: a request never holds a pooled connection while it
    # waits for a worker thread (under load that starves the pool).
    with request.app.state.sessionmaker() as session:
        row = verify_key(session, key)
        return ApiClient(row.id, row.name)


def _known_keys(request: Request) -> KnownKeys:
    known = getattr(request.app.state, "open311_known_keys", None)
    if known is None:
        known = request.app.state.open311_known_keys = KnownKeys()
    return known


async def _api_key(request: Request) -> ApiClient:
    key = request.query_params.get("api_key") or request.headers.get("X-Api-Key")
    if not key and request.method == "POST":
        ctype = request.headers.get("content-type", "")
        if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("api_key")
            key = value if isinstance(value, str) else None
    if not key:
        raise Forbidden("api_key is required (query or form field api_key, or header X-Api-Key)", where="api_key")
    if request.method == "POST":
        # Submissions: recently verified keys are known by their digest; the write transaction
        # checks revocation (apikeys.KnownKeys). A known key costs no database round trip.
        known = _known_keys(request)
        hit = known.cached(key) or await run_in_threadpool(known.verify, request.app.state.sessionmaker, key)
        return ApiClient(*hit)
    return await run_in_threadpool(_check_key, request, key)


API_KEY = CredentialAccess("open311_api_key", _api_key, csrf=False)

router = APIRouter(prefix="/api/open311/v2", tags=["open311"], route_class=Open311Route)


def _check_jurisdiction(request: Request, jurisdiction_id: str | None) -> None:
    if jurisdiction_id and jurisdiction_id != request.app.state.district.code:
        raise NotFound(f"jurisdiction_id {jurisdiction_id!r} is not served here "
                       f"(this endpoint serves {request.app.state.district.code})", where="jurisdiction_id")


def _service(sub, category_name: str) -> dict:
    return {"service_code": sub.code, "service_name": sub.name, "description": f"{category_name} · {sub.name}",
            "metadata": True, "type": "realtime", "keywords": ", ".join(sub.tags), "group": category_name}


@router.get("/services.json")
def services(request: Request, jurisdiction_id: str | None = None, _: ApiClient = Depends(API_KEY)):
    """Every service (appeal subcategory) with its group (category)."""
    _check_jurisdiction(request, jurisdiction_id)
    tax = load_taxonomy()
    return [_service(s, tax.category(s.category_code).name) for s in tax.all_subcategories()]


@router.get("/services/{service_code}.json")
def service_definition(service_code: str, request: Request, jurisdiction_id: str | None = None,
                       _: ApiClient = Depends(API_KEY)):
    """The attributes a request for this service carries."""
    _check_jurisdiction(request, jurisdiction_id)
    tax = load_taxonomy()
    sub = tax.find_subcategory(service_code)
    if sub is None or sub.retired:
        raise NotFound(f"service_code {service_code!r} not found; see services.json", where="service_code")
    district = request.app.state.district
    return {"service_code": sub.code, "attributes": [
        {"variable": True, "code": "enterprise_name", "datatype": "string", "required": True,
         "datatype_description": "企业全称", "order": 1, "description": "企业名称"},
        {"variable": True, "code": "uscc", "datatype": "string", "required": False,
         "datatype_description": "18 位统一社会信用代码（GB 32100-2015）", "order": 2,
         "description": "统一社会信用代码"},
        {"variable": True, "code": "town_code", "datatype": "singlevaluelist", "required": False,
         "datatype_description": "企业所在镇街", "order": 3, "description": "所在镇街",
         "values": [{"key": t.code, "name": t.name} for t in district.towns]},
    ]}


def _iso(value: dt.datetime | None) -> str | None:
    value = aware(value)
    return value.astimezone(TZ).isoformat() if value else None


def _request_public(a: Appeal, district) -> dict:
    tax = load_taxonomy()
    sub = tax.find_subcategory(a.subcategory_code)
    closed = a.status in TERMINAL
    if a.status == "rejected":
        notes = f"不予受理：{a.reject_reason}"
    elif a.status == "closed":
        notes = f"已办结（{OUTCOME_LABELS.get(a.outcome, a.outcome)}）" + (f"：{a.reply_text}" if a.reply_text else "")
    elif a.reply_text:
        notes = f"{STATUS_LABELS[a.status]}：{a.reply_text}"
    else:
        notes = STATUS_LABELS[a.status]
    return {
        "service_request_id": a.code, "status": "closed" if closed else "open", "status_notes": notes,
        "service_name": sub.name if sub else None, "service_code": a.subcategory_code,
        "description": a.description,
        "agency_responsible": unit_name(district, a.lead_unit) if a.lead_unit else None,
        "service_notice": "按工作日时限办理；expected_datetime 为当前环节的办理时限" + ("（暂定）" if a.due_provisional else ""),
        "requested_datetime": _iso(a.submitted_at), "updated_datetime": _iso(a.updated_at),
        "expected_datetime": _iso(a.due_at), "address": a.address or None, "address_id": None, "zipcode": None,
        "lat": a.lat, "long": a.long, "media_url": None,
    }


def _float(form, name: str) -> float | None:
    value = form.get(name)
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number, got {value!r}", where=name) from None


_URL = re.compile(r"^https?://\S{1,500}$")


@router.post("/requests.json")
async def create_request(request: Request, key: ApiClient = Depends(API_KEY)):
    """Create a service request (an appeal in the common pool, channel ``open311``). The answer
    comes after the commit (group commit with concurrent submissions)."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise InvalidInput("body is not valid JSON") from None
        if not isinstance(body, dict):
            raise InvalidInput("JSON body must be an object")
        attrs = body.get("attribute") if isinstance(body.get("attribute"), dict) else {}
        form = {k: (str(v) if v is not None else None) for k, v in body.items() if k != "attribute"}
        form.update({f"attribute[{k}]": str(v) for k, v in attrs.items()})
    else:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    receipt = await appeals_runtime(request).submit(_submission(request, key, form))
    return JSONResponse([{"service_request_id": receipt.code, "account_id": None,
                          "service_notice": "已受理登记，将按工作日时限办理；请用 service_request_id 查询进度"}])


def _submission(request: Request, key: ApiClient, form: dict):
    """The validated submission of a request's fields (cheap: no I/O)."""
    _check_jurisdiction(request, form.get("jurisdiction_id"))
    service_code = (form.get("service_code") or "").strip()
    if not service_code:
        raise InvalidInput("service_code is required; see services.json", where="service_code")
    tax = load_taxonomy()
    sub = tax.find_subcategory(service_code)
    if sub is None or sub.retired:
        raise NotFound(f"service_code {service_code!r} not found; see services.json", where="service_code")
    name = (form.get("attribute[enterprise_name]") or "").strip()
    if not name:
        raise InvalidInput("attribute[enterprise_name] is required", where="attribute[enterprise_name]")
    description = form.get("description") or ""
    media_url = (form.get("media_url") or "").strip()
    if media_url:
        if not _URL.match(media_url):
            raise InvalidInput("media_url must be an http(s) URL", where="media_url")
        description = f"{description}\n\n图片链接：{media_url}"
    contact = " ".join(x for x in (form.get("last_name"), form.get("first_name")) if x).strip()
    data = svc.AppealCreate(
        description=description, enterprise_name=name, uscc=form.get("attribute[uscc]") or None,
        town_code=form.get("attribute[town_code]") or None, subcategory_code=sub.code, contact_name=contact,
        contact_phone=form.get("phone") or "", contact_email=form.get("email") or "",
        address=form.get("address_string") or "", lat=_float(form, "lat"), long=_float(form, "long"),
    )
    actor = Actor(f"api:{key.name}"[:64], "open311", request.client.host if request.client else None)
    return svc.prepare_submission(request.app.state.settings, request.app.state.district, tax, data, actor,
                                  channel="open311", now=dt.datetime.now(dt.timezone.utc), api_key_id=key.id)


def _parse_dt(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{name} must be a W3C date-time such as 2025-03-10T09:00:00+08:00", where=name) from None
    # Compare in UTC, as stored (SQLite keeps only the wall time of what it is given).
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)).astimezone(dt.timezone.utc)


@router.get("/requests.json")
def list_requests(request: Request, service_request_id: str | None = None, service_code: str | None = None,
                  start_date: str | None = None, end_date: str | None = None, status: str | None = None,
                  jurisdiction_id: str | None = None, db: Session = Depends(get_db),
                  key: ApiClient = Depends(API_KEY)):
    """The key's requests: by ids, or filtered by service, dates (default last 90 days) and status."""
    _check_jurisdiction(request, jurisdiction_id)
    q = select(Appeal).where(Appeal.api_key_id == key.id)
    if service_request_id:
        ids = [x.strip().upper() for x in service_request_id.split(",") if x.strip()]
        q = q.where(Appeal.code.in_(ids))
    else:
        if service_code:
            q = q.where(Appeal.subcategory_code.in_([c.strip() for c in service_code.split(",")]))
        end = _parse_dt(end_date, "end_date") or dt.datetime.now(dt.timezone.utc)
        start = _parse_dt(start_date, "start_date") or end - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        if start > end:
            raise InvalidInput("start_date is after end_date", where="start_date")
        q = q.where(Appeal.submitted_at >= start, Appeal.submitted_at <= end)
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if wanted - {"open", "closed"}:
                raise InvalidInput("status must be open, closed or open,closed", where="status")
            if wanted == {"open"}:
                q = q.where(Appeal.status.notin_(TERMINAL))
            elif wanted == {"closed"}:
                q = q.where(Appeal.status.in_(TERMINAL))
    rows = db.scalars(q.order_by(Appeal.id.desc()).limit(MAX_RESULTS)).all()
    return [_request_public(a, request.app.state.district) for a in rows]


@router.get("/requests/{service_request_id}.json")
def get_request(service_request_id: str, request: Request, jurisdiction_id: str | None = None,
                db: Session = Depends(get_db), key: ApiClient = Depends(API_KEY)):
    """One request, as a list of one (as the spec says)."""
    _check_jurisdiction(request, jurisdiction_id)
    a = db.scalar(select(Appeal).where(Appeal.code == service_request_id.strip().upper(),
                                       Appeal.api_key_id == key.id))
    if a is None:
        raise NotFound(f"service_request_id {service_request_id!r} not found", where="service_request_id")
    return [_request_public(a, request.app.state.district)]
