"""Every error leaves the API as ``{"error": {"code", "message", "fields"?}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from allweather.errors import AllweatherError, InputError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    422: "validation_error",
}


class NotFoundError(AllweatherError):
    code = "not_found"


def error_body(
    code: str, message: str, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, HTTPException):  # registered for HTTPException only
        raise exc
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # registered for validation errors only
        raise exc
    fields = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path")),
            "location": str(e["loc"][0]) if e["loc"] else "",
            "message": e["msg"],
        }
        for e in exc.errors()
    ]
    message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
    return JSONResponse(error_body("validation_error", message, fields), status_code=422)


async def _platform_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, AllweatherError):  # registered for the platform's errors only
        raise exc
    status = 404 if isinstance(exc, NotFoundError) else 400 if isinstance(exc, InputError) else 500
    return JSONResponse(error_body(exc.code, exc.message), status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(AllweatherError, _platform_error)
