"""The one place where domain errors become HTTP responses.

API paths (``/api/...``) get JSON ``{"error": {"type", "message", "where"}}``; pages get a Chinese
error page that says what to do. An anonymous page request is redirected to the login page.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shengxin.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, Unauthenticated

log = logging.getLogger(__name__)

STATUS = {NotFound: 404, Conflict: 409, InvalidInput: 422, Forbidden: 403, Unauthenticated: 401}
ADVICE = {
    400: "请求格式不正确，请检查后重试。",
    401: "请先登录。",
    403: "如需访问，请联系区级管理员为您的账号开通相应权限。",
    404: "您访问的内容不存在，请检查地址或返回首页。",
    405: "请求方式不被允许，请从页面上的按钮或链接进入。",
    409: "当前状态不允许此操作，请刷新页面查看最新状态。",
    413: "上传的文件过大，请拆分后重试。",
    422: "提交的内容有误，请按提示修改后重新提交。",
    500: "系统内部错误，已记录。请稍后重试，如持续出现请联系管理员。",
}
TITLES = {400: "请求错误", 401: "需要登录", 403: "没有权限", 404: "页面不存在", 405: "方法不允许",
          409: "状态冲突", 413: "文件过大", 422: "输入有误", 500: "系统错误"}


def is_api(request: Request) -> bool:
    path = request.url.path
    return (path.startswith("/api/") or path.endswith(".json")
            or "application/json" in request.headers.get("accept", ""))


def error_response(request: Request, status: int, kind: str, message: str, where: str | None = None):
    if is_api(request):
        return JSONResponse({"error": {"type": kind, "message": message, "where": where}}, status_code=status)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    from shengxin.web.templating import render

    return render(
        request,
        "error.html",
        {"status": status, "title": TITLES.get(status, "出错了"), "message": message, "where": where,
         "advice": ADVICE.get(status, "")},
        status_code=status,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        status = next((code for cls, code in STATUS.items() if isinstance(exc, cls)), 400)
        return error_response(request, status, type(exc).__name__, exc.message, exc.where)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        parts = []
        for err in exc.errors():
            loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
            parts.append(f"{loc}: {err.get('msg')}")
        return error_response(request, 422, "InvalidInput", "; ".join(parts) or "invalid input")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "error")
        return error_response(request, exc.status_code, "HTTPError", message)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(request, 500, "InternalError", "系统内部错误")
