"""Appeal intake off the request path: group commit, suggestions after the commit, the sweep after a
crash, and the Open311 key check — on databases that really commit (SQLite file, PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import sessionmaker

from shengxin import migrate
from shengxin.appeals import intake
from shengxin.appeals import service as svc
from shengxin.appeals.apikeys import KnownKeys, create_key, hash_key, revoke_key
from shengxin.appeals.categories import load_taxonomy
from shengxin.appeals.models import Appeal, AppealClock, AppealEvent, Open311ApiKey
from shengxin.appeals.suggestions import SuggestionWorker, classify_all_pending, is_pending
from shengxin.audit.models import AuditEntry
from shengxin.audit.service import Actor
from shengxin.config import Settings
from shengxin.db import make_engine
from shengxin.enterprises.uscc import make_code
from shengxin.errors import Forbidden
from shengxin.reference.district import load_district
from shengxin.web.app import create_app
from tests.conftest import POSTGRES_URL, TEST_SECRET, require_or_skip

USCC = make_code("9", "1", "330110", "MA5R8T2W6")
POWER = "园区上周三次停电，生产线被迫停工，请尽快协调供电部门恢复稳定供电。"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A migrated database of this test alone, where commits are real (no outer transaction)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        return
    require_or_skip(bool(POSTGRES_URL), "PostgreSQL not configured: set SHENGXIN_TEST_POSTGRES_URL")
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"shengxin_t{os.getpid()}_intake"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = create_engine(POSTGRES_URL).url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sessions(store_url):
    engine = make_engine(store_url)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def settings(tmp_path, store_url):
    return Settings(data_dir=tmp_path / "data", secret_key=TEST_SECRET, database_url=store_url)


def submission(settings, i: int, *, api_key_id: int | None = None, **values) -> intake.Submission:
    data = svc.AppealCreate(description=f"{POWER}（第 {i} 件）", enterprise_name="杭州丁电子有限公司", uscc=USCC,
                            town_code="330110005")
    item = svc.prepare_submission(settings, load_district(settings.district_file), load_taxonomy(), data,
                                  Actor("api:test", "open311"), channel="open311",
                                  now=dt.datetime.now(dt.timezone.utc), api_key_id=api_key_id)
    item.values.update(values)
    return item


def test_group_commit_answers_after_the_commit_and_stores_every_part(sessions, settings):
    writer = intake.IntakeWriter(sessions, load_taxonomy(), settings.data_dir)
    writer.start()
    futures, lock = [], threading.Lock()

    def send(start: int) -> None:
        for i in range(start, start + 20):
            f = writer.submit(submission(settings, i))
            with lock:
                futures.append(f)

    threads = [threading.Thread(target=send, args=(n * 20,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    receipts = [f.result() for f in futures]
    writer.stop()

    assert len({r.code for r in receipts}) == 80
    assert writer.stored == 80 and writer.batches <= 80
    with sessions() as s:  # a fresh session sees everything the receipts promised
        stored = {a.code: a for a in s.scalars(select(Appeal))}
        assert set(stored) == {r.code for r in receipts}
        for r in receipts:
            a = stored[r.code]
            assert a.id == r.id and r.code == f"SQ{a.submitted_at.year}{a.id:06d}"
            assert a.status == "submitted" and a.stage == "accept" and a.due_at is not None
            assert is_pending(a)  # the classifier comes after the commit
        assert s.scalar(select(func.count()).select_from(AppealClock).where(AppealClock.stage == "accept")) == 80
        assert s.scalar(select(func.count()).select_from(AppealEvent).where(AppealEvent.action == "submit")) == 80
        audited = set(s.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "appeal.submit")))
        assert audited == {r.code for r in receipts}


def test_a_bad_submission_does_not_take_its_batch_with_it(sessions, settings):
    items = [submission(settings, 1), submission(settings, 2, enterprise_name=None), submission(settings, 3)]
    writer = intake.IntakeWriter(sessions, load_taxonomy(), settings.data_dir)
    writer.start()
    futures = [writer.submit(i) for i in items]
    good = [futures[0].result(), futures[2].result()]
    with pytest.raises(Exception) as bad:
        futures[1].result()
    writer.stop()
    assert "enterprise_name" in str(bad.value)  # the database refused the missing name
    with sessions() as s:
        assert set(s.scalars(select(Appeal.code))) == {r.code for r in good}


def test_suggestion_is_filled_in_after_the_commit_by_the_servers_worker(settings, sessions):
    with sessions() as s:
        key, _ = create_key(s, "hotline", Actor("test"))
        s.commit()
    app = create_app(settings)  # owns its engine: background intake writer and suggestion worker
    with TestClient(app, base_url="http://testserver") as client:
        r = client.post("/api/open311/v2/requests.json", data={
            "api_key": key, "service_code": "utilities.power", "description": POWER,
            "attribute[enterprise_name]": "杭州丁电子有限公司", "attribute[uscc]": USCC})
        assert r.status_code == 200, r.text
        code = r.json()[0]["service_request_id"]
        with sessions() as s:  # the answer came after the commit: the appeal is stored
            assert s.scalar(select(Appeal.id).where(Appeal.code == code)) is not None
        app.state.appeals.suggestions.drain()
        with sessions() as s:
            a = s.scalar(select(Appeal).where(Appeal.code == code))
            assert not is_pending(a)
            assert a.suggestion["source"] == "model" and a.suggested_subcategory.startswith("utilities.")
            assert a.suggested_unit and 0 < a.suggestion_confidence <= 1
            assert a.subcategory_code == "utilities.power"  # the system's choice stays; staff confirm


def test_a_restart_sweeps_the_appeals_a_crash_left_without_suggestion(sessions, settings):
    # stored and committed, then the process died before its worker classified them
    receipts = intake.commit_batch(sessions, [submission(settings, i) for i in range(7)], load_taxonomy(),
                                   settings.data_dir)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Appeal).where(Appeal.suggestion.is_(None))) == 7
    worker = SuggestionWorker(sessions, settings.data_dir)  # the next process: sweeps at start-up
    worker.start()
    worker.drain()
    worker.stop()
    assert worker.classified == 7
    with sessions() as s:
        rows = s.scalars(select(Appeal).where(Appeal.id.in_([r.id for r in receipts]))).all()
        assert all(not is_pending(a) and a.suggested_subcategory for a in rows)
    # a sweep with nothing pending writes nothing (and needs no model)
    assert classify_all_pending(sessions, settings.data_dir) == 0


def test_classification_never_overwrites_a_suggestion_already_there(sessions, settings):
    receipt = intake.commit_batch(sessions, [submission(settings, 1)], load_taxonomy(), settings.data_dir)[0]
    with sessions() as s:
        s.get(Appeal, receipt.id).suggestion = {"source": "model", "subcategory_code": "tax.invoice"}
        s.commit()
    assert classify_all_pending(sessions, settings.data_dir) == 0
    with sessions() as s:
        assert s.get(Appeal, receipt.id).suggestion["subcategory_code"] == "tax.invoice"


def test_known_keys_skip_the_store_but_a_revoked_key_is_refused_at_the_write(sessions, settings):
    with sessions() as s:
        key, public = create_key(s, "hotline", Actor("test"))
        s.commit()
    known = KnownKeys()
    assert known.cached(key) is None  # never seen: the store decides
    assert known.verify(sessions, key) == (public.id, "hotline")
    assert known.cached(key) == (public.id, "hotline")  # by its SHA-256 digest, no database round trip
    assert hash_key(key) in known._known and key not in known._known
    with pytest.raises(Forbidden):
        known.verify(sessions, key + "x")  # a wrong key is checked in the store and never remembered
    assert known.cached(key + "x") is None

    with sessions() as s:
        revoke_key(s, "hotline", Actor("test"))
        s.commit()
    assert known.cached(key) is not None  # still remembered in memory…
    results = intake.commit_batch(sessions, [submission(settings, 1, api_key_id=public.id),
                                             submission(settings, 2)], load_taxonomy(), settings.data_dir)
    assert isinstance(results[0], Forbidden) and "revoked" in str(results[0])  # …but refused at the write
    assert isinstance(results[1], intake.Receipt)  # the other submission of the batch is stored
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Appeal)) == 1
        assert s.get(Open311ApiKey, public.id).last_used_at is None


def test_a_submission_with_a_known_key_records_its_use(sessions, settings):
    with sessions() as s:
        _, public = create_key(s, "hotline", Actor("test"))
        s.commit()
    intake.commit_batch(sessions, [submission(settings, 1, api_key_id=public.id)], load_taxonomy(), settings.data_dir)
    with sessions() as s:
        assert s.get(Open311ApiKey, public.id).last_used_at is not None


def test_serve_with_two_workers_stores_and_classifies_a_burst(store_url, settings, sessions, tmp_path):
    """``shengxin serve --workers 2`` as a real process pair: concurrent Open311 submissions are all
    stored, each code once, and every suggestion is filled in after the commits."""
    import asyncio
    import subprocess
    import sys
    import time

    import httpx

    from shengxin.appeals.classify import get_model
    from tests.conftest import free_port

    get_model(settings.data_dir)  # trained once in this process and saved: the workers load it
    with sessions() as s:
        key, _ = create_key(s, "hotline", Actor("test"))
        s.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHENGXIN_")}
    env.update(SHENGXIN_DATA_DIR=str(settings.data_dir), SHENGXIN_SECRET_KEY=TEST_SECRET,
               SHENGXIN_DATABASE_URL=store_url)
    port = free_port()
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "shengxin", "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"server did not start; see {tmp_path / 'server.log'}")

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                return await asyncio.gather(*(client.post("/api/open311/v2/requests.json", data={
                    "api_key": key, "service_code": "utilities.power", "description": f"{POWER}（第 {i} 件）",
                    "attribute[enterprise_name]": "杭州丁电子有限公司", "attribute[uscc]": USCC}) for i in range(40)))

        # in a thread of its own: an earlier test (Playwright's sync API) may leave an event loop
        # running in this one, where asyncio.run() is refused
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(1) as pool:
            answers = pool.submit(asyncio.run, burst()).result()
        assert [r.status_code for r in answers] == [200] * 40
        codes = {r.json()[0]["service_request_id"] for r in answers}
        assert len(codes) == 40
        with sessions() as s:  # answered after the commit: all stored already
            assert set(s.scalars(select(Appeal.code))) == codes
        for _ in range(600):  # the workers classify shortly after
            with sessions() as s:
                pending = s.scalar(select(func.count()).select_from(Appeal).where(Appeal.suggestion.is_(None)))
            if not pending:
                break
            time.sleep(0.1)
        assert pending == 0
    finally:
        server.terminate()
        server.wait(timeout=60)
