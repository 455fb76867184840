"""Domain errors become JSON once, here: ``{"error": code, "detail": ...}``."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadops.errors import (
    Conflict,
    FieldError,
    Forbidden,
    InvalidTransition,
    LeadopsError,
    NotFound,
    NotSignedIn,
    RuleError,
    TooLarge,
    ValidationFailed,
)
from leadops.normalize import scrubbed
from leadops.web.render import error_page, wants_html

STATUS = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    NotSignedIn: 401,
    InvalidTransition: 409,
    RuleError: 422,
    ValidationFailed: 422,
    TooLarge: 413,
}


def error_body(code: str, detail: Any) -> dict[str, Any]:
    """The one error body. What the request held that cannot be encoded (a lone surrogate in a
    field's name, say) is shown as U+FFFD."""
    return {"error": code, "detail": scrubbed(detail)}


def _status_of(exc: LeadopsError) -> int:
    for cls, status in STATUS.items():
        if isinstance(exc, cls):
            return status
    return 400


def _line_column(body: bytes, position: int) -> tuple[int, int]:
    before = body[:position].decode("utf-8", errors="replace")
    line = before.count("\n") + 1
    return line, position - (before.rfind("\n") + 1) + 1 if "\n" in before else position + 1


def _message(error: Any) -> str:
    """What is wrong, as the validation says it, in the words leadops' own checks use: a check's
    own message without pydantic's "Value error, " before it, and a text that is too long counted
    in characters (pydantic measures a checked text after its check, and calls them items)."""
    ctx = error.get("ctx") or {}
    if error["type"] == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if error["type"] == "too_long" and isinstance(error.get("input"), str):
        return f"is {ctx['actual_length']} characters long; the most is {ctx['max_length']}"
    return str(error["msg"])


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LeadopsError)
    async def domain_error(request: Request, exc: LeadopsError) -> Response:
        if wants_html(request):
            return error_page(request, exc, _status_of(exc))
        return JSONResponse(error_body(exc.code, exc.detail), status_code=_status_of(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if wants_html(request):
            fields = [
                FieldError(".".join(str(p) for p in e["loc"][1:]) or "form", _message(e))
                for e in errors
            ]
            return error_page(request, ValidationFailed(fields), 422)
        for error in errors:
            if error.get("type") == "json_invalid":
                body = await request.body()
                position = int(error["loc"][1]) if len(error["loc"]) > 1 else 0
                line, column = _line_column(body, position)
                reason = (error.get("ctx") or {}).get("error", "JSON decode error")
                where = {
                    "message": f"request body is not valid JSON: {reason}",
                    "line": line,
                    "column": column,
                }
                return JSONResponse(error_body("invalid_json", where), status_code=400)
        # A location is (where, *path): "body", "query" or "path", then the field's path in it.
        detail = [
            {
                "path": ".".join(str(p) for p in error["loc"][1:]) or str(error["loc"][0]),
                "message": _message(error),
            }
            for error in errors
        ]
        return JSONResponse(error_body("validation_failed", detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            exc.status_code, "http_error"
        )
        if wants_html(request) and not request.url.path.startswith("/static/"):
            return error_page(request, LeadopsError(str(exc.detail)), exc.status_code)
        return JSONResponse(error_body(code, exc.detail), status_code=exc.status_code)


class BodySizeLimit:
    """Refuses request bodies over the limit with a 413 that says the size and the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send, int(declared))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLargeBody(received)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLargeBody as exc:
            await self._refuse(send, exc.size)

    async def _refuse(self, send: Send, size: int) -> None:
        limit_mb = self.max_bytes / 1_000_000
        detail = (
            f"request body is {size / 1_000_000:.1f} MB; the limit is {limit_mb:g} MB "
            "(send activities in batches, or import large files with `leadops import`)"
        )
        body = json.dumps(error_body("too_large", detail)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLargeBody(Exception):
    def __init__(self, size: int) -> None:
        self.size = size
