"""Browser fixtures: a real server process and headless Debian Chromium driven by Playwright.

Chromium comes from Debian (``/usr/bin/chromium``; `.ci/run` installs it): Playwright never downloads
a browser here. Without it the tests are skipped with the reason — under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, require_or_skip

CHROMIUM = os.environ.get("SHENGXIN_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def start_server(env: dict, tmp_path: Path, setup_args: list[list[str]]):
    """Run set-up commands, then ``shengxin serve`` on a free port; returns (process, base_url)."""
    for args in setup_args:
        subprocess.run([sys.executable, "-m", "shengxin", *args], env=env, check=True, capture_output=True,
                       timeout=1200)
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "shengxin", "serve", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"server did not start; see {tmp_path / 'server.log'}")


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """The platform in demo mode with demo accounts, served over real HTTP."""
    tmp = tmp_path_factory.mktemp("browser-server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DEMO="true", SHENGXIN_DATA_DIR=str(tmp / "data"))
    proc, base = start_server(env, tmp, [["demo", "setup", "--enterprises", "2000"]])
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser():
    require_or_skip(Path(CHROMIUM).exists() or bool(shutil.which("chromium")),
                    f"headless Chromium not found at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    yield pg
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
