"""The installed program end to end: migrate, create users, serve and answer /healthz over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import create_engine, text

from shengxin import migrate
from tests.conftest import POSTGRES_URL, TEST_SECRET, free_port, require_or_skip


def run(args, env, check=True, input=None):
    proc = subprocess.run([sys.executable, "-m", "shengxin", *args], env=env, capture_output=True,
                          text=True, timeout=120, input=input)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def base_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DATA_DIR=str(tmp_path / "data"), SHENGXIN_SECRET_KEY=TEST_SECRET, **extra)
    return env


def pg_cli_url() -> str:
    require_or_skip(bool(POSTGRES_URL), "PostgreSQL not configured: set SHENGXIN_TEST_POSTGRES_URL")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS shengxin_cli_test"))
        conn.execute(text("CREATE DATABASE shengxin_cli_test"))
    admin.dispose()
    return create_engine(POSTGRES_URL).url.set(database="shengxin_cli_test").render_as_string(hide_password=False)


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_db_upgrade_and_users(tmp_path, store):
    env = base_env(tmp_path)
    if store == "postgresql":
        env["SHENGXIN_DATABASE_URL"] = pg_cli_url()
    out = run(["db", "upgrade"], env).stdout
    assert migrate.head_revision() in out
    run(["users", "create", "li", "--role", "town_staff", "--town", "330110010", "--password",
         "a-long-password", "--name", "李四"], env)
    bad = run(["users", "create", "li2", "--role", "town_staff", "--town", "999", "--password",
               "a-long-password"], env, check=False)
    assert bad.returncode == 1 and "town_code" in bad.stderr
    users = json.loads(run(["users", "list", "--json"], env).stdout)
    assert users == [{"username": "li", "display_name": "李四", "role": "town_staff", "uscc": None,
                      "town_code": "330110010", "department_code": None}]


def test_default_secret_is_refused_outside_demo(tmp_path):
    env = base_env(tmp_path)
    env.pop("SHENGXIN_SECRET_KEY")
    proc = run(["db", "upgrade"], env, check=False)
    assert proc.returncode == 2 and "SHENGXIN_SECRET_KEY" in proc.stderr


def test_demo_setup_refused_outside_demo_mode(tmp_path):
    proc = run(["demo", "setup"], base_env(tmp_path), check=False)
    assert proc.returncode == 1 and "demo mode" in proc.stderr


def test_serve_answers_healthz_and_login_over_http(tmp_path):
    env = base_env(tmp_path, SHENGXIN_DEMO="true")
    env.pop("SHENGXIN_SECRET_KEY")
    # accounts only: the full demo data (synth, ingest, tags, policies, appeals, payouts) is built by
    # the browser tests' demo server (tests/browser/conftest.py)
    run(["demo", "setup", "--no-data"], env)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "shengxin", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                r = httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        with httpx.Client(base_url=base) as c:
            page = c.get("/login")
            token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            r = c.post("/login", data={"username": "admin", "password": "shengxin-demo", "csrf_token": token})
            assert r.status_code == 303
            assert c.get("/api/me").json()["username"] == "admin"
            assert "swagger-ui" in c.get("/docs").text
            assert c.get("/openapi.json").json()["info"]["title"].startswith("Shengxin")
    finally:
        server.terminate()
        server.wait(timeout=20)
