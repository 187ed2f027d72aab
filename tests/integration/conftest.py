"""Web fixtures: the real app on a real (rolled-back) database, driven through httpx."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from shengxin.accounts.demo import DEMO_PASSWORD, ensure_demo_accounts
from shengxin.config import Settings
from shengxin.reference.district import load_district
from shengxin.web.app import create_app
from tests.conftest import TEST_SECRET

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def web_settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET, login_max_failures=3)


@pytest.fixture
def app(web_settings, session_factory):
    with session_factory() as s:
        ensure_demo_accounts(s, load_district(web_settings.district_file), demo_mode=True)
        s.commit()
    return create_app(web_settings, session_factory)


def csrf_of(client: TestClient, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: TestClient, username: str, password: str = DEMO_PASSWORD):
    token = csrf_of(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       "next": "/"}, follow_redirects=False)


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def as_role(app):
    """Factory: a client logged in as a demo account (admin, auditor, town, dept, enterprise)."""
    clients = []

    def make(username: str) -> TestClient:
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        clients.append(c)
        r = login(c, username)
        assert r.status_code == 303, r.text
        return c

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture(scope="session")
def district_data(tmp_path_factory):
    """A small synthetic district (synth → deliveries → ingest), shared by the whole session.

    Returns ``(delivery_dir, data_dir)``; the analytic store is ``data_dir / "analytic"``.
    Tests must not modify it.
    """
    from shengxin.enterprises.hub.run import ingest
    from shengxin.synth.generate import SynthConfig, generate

    from shengxin.config import get_settings
    from shengxin.reference.district import load_district

    root = tmp_path_factory.mktemp("district")
    delivery, data_dir = root / "delivery", root / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SHENGXIN_SECRET_KEY", TEST_SECRET)
        mp.setenv("SHENGXIN_DATA_DIR", str(data_dir))
        get_settings.cache_clear()
        load_district.cache_clear()
        generate(SynthConfig(enterprises=1500, months=36, seed=7), delivery)
        ingest([delivery], analytic_dir=data_dir / "analytic")
    get_settings.cache_clear()
    load_district.cache_clear()
    return delivery, data_dir


@pytest.fixture
def data_app(district_data, session_factory):
    """The web app over the synthetic district's analytic store, with demo accounts."""
    _, data_dir = district_data
    settings = Settings(data_dir=data_dir, secret_key=TEST_SECRET)
    with session_factory() as s:
        ensure_demo_accounts(s, load_district(settings.district_file), demo_mode=True)
        s.commit()
    return create_app(settings, session_factory)


class Mailbox:
    """aiosmtpd handler that keeps every received message as (recipients, parsed message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; yields (controller, mailbox)."""
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    from tests.conftest import free_port

    box = Mailbox()
    controller = controller_mod.Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, box
    finally:
        controller.stop()
