"""OpenAPI document and Swagger UI, served from the npm-installed swagger-ui-dist (no CDN)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse

from shengxin.accounts.roles import STAFF_ROLES
from shengxin.web.security import access

router = APIRouter(include_in_schema=False)


@router.get("/openapi.json")
def openapi(request: Request, _=Depends(access(STAFF_ROLES))):
    return JSONResponse(request.app.openapi())


@router.get("/docs")
def docs(_=Depends(access(STAFF_ROLES))):
    return HTMLResponse(
        """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>接口文档 · Shengxin API</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/js/swagger-init.js"></script></body></html>"""
    )
