"""``shengxin demo``: prepare the embedded demo (migrate, demo data, demo accounts)."""

from __future__ import annotations

import typer

from shengxin import migrate
from shengxin.accounts.demo import DEMO_PASSWORD, FALLBACK_DEMO_USCC, ensure_demo_accounts
from shengxin.cli.common import console, fail, load_settings
from shengxin.db import get_engine, session_scope
from shengxin.errors import DomainError
from shengxin.reference.district import load_district

app = typer.Typer(help="Embedded demo (requires SHENGXIN_DEMO=true).")


def _demo_enterprise(analytic_dir) -> tuple[str, str]:
    """The demo enterprise account's company: the first active enterprise of the first town."""
    from shengxin.enterprises.store import open_current

    con = open_current(analytic_dir)
    try:
        row = con.execute(
            "SELECT e.uscc, e.name FROM enterprises e WHERE e.status = 'active' AND e.town_code = ? "
            "AND EXISTS (SELECT 1 FROM monthly_tax t WHERE t.uscc = e.uscc) ORDER BY e.uscc LIMIT 1",
            [load_district().towns[0].code],
        ).fetchone()
    finally:
        con.close()
    return (row[0], row[1]) if row else (FALLBACK_DEMO_USCC, "演示企业")


def _derived_snapshots(settings) -> None:
    """Compute the tag and signal snapshots the portraits and the cockpit show, when missing."""
    from shengxin.signals import service as signal_service
    from shengxin.tags import snapshots as tag_snapshots

    if tag_snapshots.current(settings.analytic_dir) is None:
        from shengxin.cli.tags import compute_cmd

        console.print("计算企业标签 / computing tags…")
        compute_cmd(as_of=None, as_json=False)
    if signal_service.current_snapshot(settings) is None:
        from shengxin.cli.signals import detect

        console.print("检测预警与成长信号 / detecting signals…")
        detect(as_of=None, months=36, inputs=None, as_json=False)


def _demo_policies() -> None:
    """Publish the policy library (real examples + generated demo policies) and match it, once."""
    from sqlalchemy import func, select

    from shengxin.policies.models import Policy

    with session_scope() as s:
        if s.scalar(select(func.count()).select_from(Policy)):
            return
    from shengxin.cli.policies import match, seed

    console.print("发布政策库并匹配企业 / publishing the policy library and matching…")
    seed(library="all", count=744, seed_value=20241, no_application=429, as_json=False)
    match(policy=None, as_of=None, push=True, as_json=False)


def _appeal_classifier(settings) -> None:
    """Train the appeal classifier once (reproducibly) and cache it under ``<data_dir>/models/``, so
    that the server loads it at start-up."""
    from shengxin.appeals.classify import get_model
    from shengxin.appeals.classify.model import model_path

    if not model_path(settings.data_dir).exists():
        console.print("训练诉求分类模型 / training the appeal classifier…")
    get_model(settings.data_dir)


def demo_appeal_count(enterprises: int) -> int:
    """Demo appeals for a district of this size: one per five enterprises, 200 to 4,000 (a year)."""
    return min(4000, max(200, enterprises // 5))


def _demo_appeals(enterprises: int) -> None:
    """A year of appeals walked through the state machine (``shengxin appeals demo``), once."""
    from sqlalchemy import select

    from shengxin.appeals.demo import DEMO_SUBMITTER_PREFIX
    from shengxin.appeals.models import Appeal
    from shengxin.cli.appeals import demo as appeals_demo

    with session_scope() as s:
        if s.scalar(select(Appeal.id).where(Appeal.submitted_by.like(f"{DEMO_SUBMITTER_PREFIX}%")).limit(1)):
            return
    console.print("生成一年的演示诉求 / walking a year of demo appeals…")
    appeals_demo(n=demo_appeal_count(enterprises), seed=7, as_json=False)


def _demo_payouts(settings) -> None:
    """Completed payout rounds and instant applications (``shengxin payouts demo``), once; needs the
    demo accounts (``dept`` creates, ``admin`` approves) and the policy match."""
    from shengxin.payouts.demo import build_demo

    with session_scope() as s:
        out = build_demo(s, load_district(settings.district_file), settings.analytic_dir, settings.data_dir,
                         demo_mode=True)
    if out.get("created"):
        console.print(f"演示兑现 / demo payouts: {len(out.get('rounds', []))} rounds closed, "
                      f"{len(out.get('applications', []))} instant applications")


@app.command()
def setup(
    enterprises: int = typer.Option(20_000, "--enterprises", help="Size of the synthetic district."),
    seed: int = typer.Option(20241, "--seed", help="Seed of the synthetic district."),
    no_data: bool = typer.Option(False, "--no-data", help="Only migrate and create accounts."),
) -> None:
    """Migrate, generate and ingest the synthetic district once, create the demo accounts (idempotent)."""
    settings = load_settings()
    if not settings.demo:
        fail(DomainError("demo setup runs only in demo mode (SHENGXIN_DEMO=true)"))
    migrate.upgrade(get_engine())
    _appeal_classifier(settings)
    uscc, name = FALLBACK_DEMO_USCC, "演示企业"
    if not no_data:
        from shengxin.enterprises.store import current_snapshot

        if current_snapshot(settings.analytic_dir) is None:
            from shengxin.cli.ingest import ingest_files
            from shengxin.cli.synth import synth

            delivery = settings.data_dir / "demo-delivery"
            console.print(f"生成演示区县数据 / generating the synthetic district ({enterprises} enterprises)…")
            synth(enterprises=enterprises, months=36, seed=seed, out=delivery, as_of="2026-10",
                  defect_rate=0.002, force=True, quiet=False)
            console.print("导入演示数据 / ingesting the deliveries…")
            ingest_files(paths=[delivery], source=None, force=False, as_json=False)
        _derived_snapshots(settings)
        _demo_policies()
        _demo_appeals(enterprises)
        uscc, name = _demo_enterprise(settings.analytic_dir)
    try:
        with session_scope() as s:
            created = ensure_demo_accounts(s, load_district(settings.district_file), demo_mode=True,
                                           enterprise_uscc=uscc, enterprise_name=name)
    except DomainError as exc:
        fail(exc)
    console.print(f"演示账号 / demo accounts ready (password: {DEMO_PASSWORD}); newly created: {created or 'none'}")
    if not no_data:
        _demo_payouts(settings)
