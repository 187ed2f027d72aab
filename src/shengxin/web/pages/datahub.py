"""Data-hub pages: ingest runs and the quarantine (rejected and warned rows), with Excel download.

Who: district admin and department staff (the integration engineers' desk); auditor reads.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from shengxin.accounts.roles import Role
from shengxin.accounts.service import Principal
from shengxin.enterprises.hub.quarantine import export_quarantine_xlsx, read_issues, resolve_run
from shengxin.enterprises.store import current_snapshot, list_runs, run_report
from shengxin.web.security import access
from shengxin.web.templating import render

router = APIRouter(include_in_schema=False)
DATA_ROLES = (Role.ADMIN, Role.DEPARTMENT, Role.AUDITOR)
PAGE_SIZE = 100


def _dir(request: Request) -> Path:
    return request.app.state.settings.analytic_dir


@router.get("/data")
def runs_page(request: Request, _: Principal = Depends(access(*DATA_ROLES))):
    root = _dir(request)
    runs = [run_report(r, root) for r in reversed(list_runs(root))][:50]
    return render(request, "datahub_runs.html", {"runs": runs, "snapshot": current_snapshot(root)})


@router.get("/data/quarantine")
def quarantine_page(request: Request, run: str | None = None, severity: str = "error", page: int = 1,
                    _: Principal = Depends(access(*DATA_ROLES))):
    root = _dir(request)
    if not list_runs(root):
        return render(request, "datahub_quarantine.html", {"run": None, "rows": [], "total": 0})
    run_id = resolve_run(run or None, root)
    table = read_issues(run_id, analytic_dir=root, severity=severity if severity in ("error", "warning") else None)
    page = max(page, 1)
    rows = table.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_pylist()
    return render(request, "datahub_quarantine.html", {
        "run": run_id, "report": run_report(run_id, root), "rows": rows, "total": table.num_rows,
        "severity": severity, "page": page, "pages": max(1, -(-table.num_rows // PAGE_SIZE)),
    })


@router.get("/data/quarantine.xlsx")
def quarantine_download(request: Request, run: str | None = None,
                        _: Principal = Depends(access(*DATA_ROLES))):
    root = _dir(request)
    run_id = resolve_run(run or None, root)
    tmp = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)
    tmp.close()
    export_quarantine_xlsx(tmp.name, run_id, analytic_dir=root)
    return FileResponse(tmp.name, filename=f"quarantine-{run_id}.xlsx",
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        background=BackgroundTask(Path(tmp.name).unlink, missing_ok=True))
