"""Who is asking, and may they? Access declarations, login sessions and CSRF protection.

Rules:
* every route declares its access with :func:`access` (roles) or :data:`PUBLIC`;
  ``tests/integration/test_route_permissions.py`` walks every route to prove it;
* an anonymous caller of a protected route gets 401 (API) or a redirect to the login page (pages);
  a logged-in caller whose role is not allowed gets 403;
* every state-changing request (POST, PUT, PATCH, DELETE) carries the session's CSRF token, in the
  form field ``csrf_token`` or the ``X-CSRF-Token`` header, else 403 — the login form included.
"""

from __future__ import annotations

import hmac
import inspect
import secrets
from collections.abc import Iterable

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal, get_principal
from shengxin.errors import Forbidden, Unauthenticated
from shengxin.web.deps import get_db

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def verify_csrf(request: Request) -> None:
    """Refuse an unsafe request whose CSRF token is missing or wrong."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise Forbidden("表单已过期或缺少安全令牌（CSRF），请刷新页面后重试")


def current_principal(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    """The logged-in user, or ``None``. A deactivated user's session is dropped."""
    cached = getattr(request.state, "principal", "unset")
    if cached != "unset":
        return cached
    user_id = request.session.get("uid")
    principal = get_principal(db, int(user_id)) if user_id is not None else None
    if principal is None and user_id is not None:
        request.session.pop("uid", None)
    request.state.principal = principal
    return principal


class Access:
    """A route's access declaration; used as a FastAPI dependency that enforces it."""

    def __init__(self, roles: Iterable[Role] | None, *, csrf: bool = True):
        self.roles = frozenset(roles) if roles is not None else None
        self.csrf = csrf

    @property
    def public(self) -> bool:
        return self.roles is None

    async def __call__(
        self, request: Request, principal: Principal | None = Depends(current_principal)
    ) -> Principal | None:
        if self.csrf:
            await verify_csrf(request)
        if self.public:
            return principal
        if principal is None:
            raise Unauthenticated("请先登录")
        if principal.role not in self.roles:
            raise Forbidden("您的账号没有权限访问此页面或接口")
        return principal

    def __repr__(self) -> str:  # shown in test failures
        return "PUBLIC" if self.public else f"Access({sorted(r.value for r in self.roles)})"


def access(*roles: Role | Iterable[Role], csrf: bool = True) -> Access:
    """Declare which roles may use a route; accepts roles and sets of roles."""
    flat: set[Role] = set()
    for r in roles:
        if isinstance(r, Role):
            flat.add(r)
        else:
            flat.update(r)
    if not flat:
        raise ValueError("access() needs at least one role; use PUBLIC for public routes")
    return Access(flat, csrf=csrf)


PUBLIC = Access(None)


class CredentialAccess(Access):
    """Access by a credential that is not a login session: an API key, or a signed token in the URL.

    Roles play no part: every caller, anonymous or logged in, is refused (403) without a valid
    credential. ``verify(request)`` is the domain's check (sync ones run in the thread pool); it
    raises a domain error or returns what the credential binds (an API client, an enterprise),
    which the route receives as the dependency's value. A verifier opens its own short session
    (``request.app.state.sessionmaker``) rather than the request's, so that no request holds a
    pooled connection while it waits for a worker thread. The route-permission test walks these
    routes too.
    """

    def __init__(self, kind: str, verify, *, csrf: bool):
        super().__init__(frozenset(), csrf=csrf)
        self.kind = kind
        self.verify = verify

    async def __call__(self, request: Request):  # type: ignore[override]
        if self.csrf:
            await verify_csrf(request)
        if inspect.iscoroutinefunction(self.verify):
            return await self.verify(request)
        return await run_in_threadpool(self.verify, request)

    def __repr__(self) -> str:
        return f"CredentialAccess({self.kind})"


def declared_access(route) -> Access | None:
    """The access declaration of an APIRoute (used by the route-permission test and the nav)."""
    for dep in route.dependant.dependencies:
        if isinstance(dep.call, Access):
            return dep.call
    return None


def login_session(request: Request, principal: Principal) -> None:
    """Start a fresh session for this user (a new CSRF token too: no session fixation)."""
    request.session.clear()
    request.session["uid"] = principal.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.state.principal = principal


def logout_session(request: Request) -> None:
    request.session.clear()
    request.state.principal = None


def iter_routes(app):
    """Every HTTP route of the app as ``(path, methods, route)``, included routers flattened."""
    from fastapi.routing import APIRoute

    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: routes are flat
        for route in app.routes:
            if isinstance(route, APIRoute):
                yield route.path, route.methods, route
        return
    for rc in iter_route_contexts(app.routes):
        route = rc.original_route
        if isinstance(route, APIRoute):
            yield rc.path, route.methods, route
