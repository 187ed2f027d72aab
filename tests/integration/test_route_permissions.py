"""Walks every route of the app: each declares its access, and the wrong caller is refused."""

from __future__ import annotations

import re

import pytest

from shengxin.accounts.demo import FALLBACK_DEMO_USCC
from shengxin.accounts.roles import Role
from shengxin.web.nav import SECTIONS
from shengxin.web.security import CredentialAccess, declared_access, iter_routes
from tests.integration.conftest import csrf_of

DEMO_USER_BY_ROLE = {
    Role.ADMIN: "admin",
    Role.AUDITOR: "auditor",
    Role.TOWN: "town",
    Role.DEPARTMENT: "dept",
    Role.ENTERPRISE: "enterprise",
}


#: Path parameters that must be filled with values inside the demo accounts' scopes, so that a
#: scope check (an enterprise sees only itself) is not mistaken for a role refusal.
SCOPED_VALUES = {"uscc": FALLBACK_DEMO_USCC}


def concrete(path: str) -> str:
    """Fill path parameters with harmless values."""
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: SCOPED_VALUES.get(m.group(1), "x"), path)


def test_every_route_declares_access(app):
    missing = [f"{sorted(m)} {p}" for p, m, r in iter_routes(app) if declared_access(r) is None]
    assert not missing, f"routes without an access declaration: {missing}"


def test_public_routes_are_only_the_expected_ones(app):
    public = {p for p, m, r in iter_routes(app) if declared_access(r).public}
    assert public == {"/healthz", "/login",
                      # the payouts publicity list (公示) and its objection form: public by law
                      "/public/payouts", "/public/payouts/{round_id}", "/public/payouts/{round_id}/objection"}, public


#: Routes that authenticate by a credential other than a login (roles play no part): every caller
#: without a valid credential is refused, which the walkers below check like any other route.
CREDENTIAL_ROUTES = {
    ("open311_api_key", "/api/open311/v2/services.json"),
    ("open311_api_key", "/api/open311/v2/services/{service_code}.json"),
    ("open311_api_key", "/api/open311/v2/requests.json"),
    ("open311_api_key", "/api/open311/v2/requests/{service_request_id}.json"),
    ("appeal_qr_token", "/q/{token}"),
}


def test_credential_routes_are_only_the_expected_ones(app):
    found = {(acc.kind, p) for p, m, r in iter_routes(app)
             if isinstance(acc := declared_access(r), CredentialAccess)}
    assert found == CREDENTIAL_ROUTES, found
    for p, m, r in iter_routes(app):
        acc = declared_access(r)
        if isinstance(acc, CredentialAccess) and acc.kind == "open311_api_key":
            assert not acc.csrf, f"{p}: machine clients authenticate by key, not by a session's CSRF token"


def test_anonymous_is_refused_everywhere(app, client):
    checked = 0
    for path, methods, route in iter_routes(app):
        acc = declared_access(route)
        if acc.public:
            continue
        for method in methods:
            url = concrete(path)
            headers = {"accept": "application/json"} if path.startswith("/api/") else {}
            r = client.request(method, url, headers=headers, follow_redirects=False)
            if path.startswith("/api/") or path == "/openapi.json" or isinstance(acc, CredentialAccess):
                assert r.status_code in (401, 403), f"{method} {url} -> {r.status_code}"
            elif method == "GET":
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), f"{method} {url}"
            else:  # unsafe page methods fail on CSRF or login first
                assert r.status_code in (303, 401, 403), f"{method} {url} -> {r.status_code}"
            checked += 1
    assert checked >= 10


def test_wrong_role_is_refused_everywhere(app, as_role):
    clients = {role: as_role(user) for role, user in DEMO_USER_BY_ROLE.items()}
    checked = 0
    for path, methods, route in iter_routes(app):
        acc = declared_access(route)
        if acc.public:
            continue
        for role, c in clients.items():
            if role in acc.roles:
                continue
            token = csrf_of(c, "/")
            for method in methods:
                r = c.request(method, concrete(path), headers={"X-CSRF-Token": token,
                                                               "accept": "application/json"},
                              follow_redirects=False)
                assert r.status_code == 403, f"{role} {method} {path} -> {r.status_code}"
                checked += 1
    assert checked >= 10


def test_allowed_roles_get_through(app, as_role):
    """The right role is not refused by the access check (it may still get 404/422 for dummy ids)."""
    for path, methods, route in iter_routes(app):
        acc = declared_access(route)
        if acc.public or "GET" not in methods:
            continue
        for role in acc.roles:
            c = as_role(DEMO_USER_BY_ROLE[role])
            r = c.get(concrete(path), follow_redirects=False)
            assert r.status_code not in (401, 403), f"{role} GET {path} -> {r.status_code}"


def test_unsafe_requests_need_csrf(app, as_role):
    c = as_role("admin")
    for path, methods, route in iter_routes(app):
        for method in methods & {"POST", "PUT", "PATCH", "DELETE"}:
            acc = declared_access(route)
            if not acc.csrf:
                continue
            r = c.request(method, concrete(path), data={"x": "1"}, follow_redirects=False)
            assert r.status_code == 403, f"{method} {path} without CSRF -> {r.status_code}"


def test_navigation_entries_match_routes(app):
    routes = {(p, frozenset(declared_access(r).roles or ())) for p, m, r in iter_routes(app) if "GET" in m}
    by_path = {p: roles for p, roles in routes}
    for s in SECTIONS:
        assert s.href in by_path, f"nav entry {s.key} points at missing route {s.href}"
        assert by_path[s.href] == s.roles, f"nav entry {s.key} roles differ from its route's access"


@pytest.mark.parametrize("role", list(DEMO_USER_BY_ROLE))
def test_nav_shows_only_allowed_sections(as_role, role):
    c = as_role(DEMO_USER_BY_ROLE[role])
    html = c.get("/").text
    for s in SECTIONS:
        shown = f'data-section="{s.key}"' in html
        assert shown == (role in s.roles), f"{role}: section {s.key} shown={shown}"
