"""Login, logout, sessions, rate limiting and user administration through the web app."""

from __future__ import annotations

from sqlalchemy import select

from shengxin.accounts.models import User
from shengxin.audit.models import AuditEntry
from tests.integration.conftest import csrf_of, login


def test_login_sets_hardened_cookie_and_logout_ends_session(client):
    r = login(client, "admin")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert client.get("/api/me").json()["role"] == "district_admin"
    token = csrf_of(client, "/")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/api/me", headers={"accept": "application/json"}).status_code == 401


def test_wrong_password_is_refused_without_revealing_which_part(client):
    r1 = login(client, "admin", "wrong-password")
    r2 = login(client, "nobody-here", "wrong-password")
    assert r1.status_code == r2.status_code == 401
    assert "用户名或密码错误" in r1.text and "用户名或密码错误" in r2.text


def test_login_rate_limit_blocks_even_the_right_password(client, web_settings):
    for _ in range(web_settings.login_max_failures):
        assert login(client, "town", "bad-password-x").status_code == 401
    r = login(client, "town")
    assert r.status_code == 429 and "次数过多" in r.text


def test_login_without_csrf_is_refused(client):
    client.get("/login")
    r = client.post("/login", data={"username": "admin", "password": "x" * 10}, follow_redirects=False)
    assert r.status_code == 403


def test_open_redirect_after_login_is_prevented(client):
    token = csrf_of(client)
    r = client.post("/login", data={"username": "admin", "password": "shengxin-demo", "csrf_token": token,
                                    "next": "https://evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_anonymous_page_redirects_to_login_with_next(client):
    r = client.get("/audit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/audit"


def test_passwords_are_argon2_hashed(session_factory, app):
    with session_factory() as s:
        hashes = s.scalars(select(User.password_hash)).all()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)


def test_admin_creates_user_via_form_and_it_is_audited(as_role, session_factory):
    c = as_role("admin")
    token = csrf_of(c, "/admin/users")
    r = c.post("/admin/users", data={"csrf_token": token, "username": "zhangsan", "display_name": "张三",
                                     "password": "a-long-password", "role": "town_staff",
                                     "town_code": "330110012"}, follow_redirects=False)
    assert r.status_code == 303
    assert "张三" in c.get("/admin/users").text
    with session_factory() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "user.create",
                                                    AuditEntry.object_id == "zhangsan")).one()
        assert entry.actor == "admin" and entry.detail["town_code"] == "330110012"


def test_user_form_errors_say_what_is_wrong(as_role):
    c = as_role("admin")
    token = csrf_of(c, "/admin/users")
    r = c.post("/admin/users", data={"csrf_token": token, "username": "qy", "password": "a-long-password",
                                     "role": "enterprise", "uscc": "91330110MA2H8K9X1O"})
    assert r.status_code == 422 and "uscc" in r.text
    r = c.post("/admin/users", data={"csrf_token": token, "username": "t2", "password": "a-long-password",
                                     "role": "town_staff", "town_code": "330113001"})
    assert r.status_code == 422 and "town_code" in r.text  # a Linping town is not in Yuhang


def test_user_text_is_escaped(as_role):
    c = as_role("admin")
    token = csrf_of(c, "/admin/users")
    c.post("/admin/users", data={"csrf_token": token, "username": "xss", "display_name": "<script>alert(1)</script>",
                                 "password": "a-long-password", "role": "auditor"})
    html = c.get("/admin/users").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_api_user_create_and_conflict(as_role):
    c = as_role("admin")
    token = csrf_of(c, "/")
    body = {"username": "dept2", "password": "a-long-password", "role": "department_staff",
            "department_code": "kjj"}
    r = c.post("/api/users", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 201 and r.json()["department_code"] == "kjj"
    r = c.post("/api/users", json=body, headers={"X-CSRF-Token": token})
    assert r.status_code == 409 and r.json()["error"]["where"] == "username"


def test_auditor_reads_but_cannot_write(as_role):
    c = as_role("auditor")
    assert c.get("/api/audit").status_code == 200
    token = csrf_of(c, "/")
    r = c.post("/api/users", json={"username": "x1", "password": "a-long-password", "role": "auditor"},
               headers={"X-CSRF-Token": token})
    assert r.status_code == 403


def test_error_pages_are_chinese_and_helpful(as_role):
    c = as_role("enterprise")
    r = c.get("/audit")
    assert r.status_code == 403 and "没有权限" in r.text and "联系区级管理员" in r.text
    r = c.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.text


def test_security_headers_and_upload_limit(app, client):
    r = client.get("/healthz")
    assert r.json() == {"status": "ok"}
    assert r.headers["x-frame-options"] == "DENY" and "default-src 'self'" in r.headers["content-security-policy"]
    limit = app.state.settings.max_upload_bytes
    r = client.post("/login", content=b"x" * (limit + 1), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 413
