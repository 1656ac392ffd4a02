"""OpenAI's error responses.

Every error the simulator returns has OpenAI's body::

    {"error": {"message": "...", "type": "...", "param": null, "code": "..."}}

so the SDK maps it to the same exception with the same ``.code`` / ``.type`` as
against the real API:

======  ==========================  =======================  ======================
status  type                        code                     SDK exception
======  ==========================  =======================  ======================
400     invalid_request_error       (varies)                 BadRequestError
401     invalid_request_error       invalid_api_key          AuthenticationError
404     invalid_request_error       model_not_found          NotFoundError
429     requests | tokens           rate_limit_exceeded      RateLimitError
429     insufficient_quota          insufficient_quota       RateLimitError
5xx     server_error                null                     InternalServerError
======  ==========================  =======================  ======================
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse


class SimError(Exception):
    """An error response in OpenAI's shape; raised anywhere, rendered by the app."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str,
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def mask_key(key: str) -> str:
    """How OpenAI echoes a wrong key: enough to recognise it, not enough to use it."""
    if len(key) <= 8:
        return "*" * len(key)
    return f"{key[:3]}{'*' * (len(key) - 7)}{key[-4:]}"


def invalid_api_key(key: str) -> SimError:
    return SimError(
        401,
        f"Incorrect API key provided: {mask_key(key)}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
        type="invalid_request_error",
        code="invalid_api_key",
    )


def missing_api_key() -> SimError:
    return SimError(
        401,
        "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type="invalid_request_error",
        code="invalid_api_key",
    )


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> SimError:
    return SimError(400, message, type="invalid_request_error", param=param, code=code)


def model_not_found(model: str) -> SimError:
    return SimError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        type="invalid_request_error",
        code="model_not_found",
        param="model",
    )


def insufficient_quota(headers: dict[str, str] | None = None) -> SimError:
    return SimError(
        429,
        "You exceeded your current quota, please check your plan and billing details. "
        "For more information on this error, read the docs: "
        "https://platform.openai.com/docs/guides/error-codes/api-errors.",
        type="insufficient_quota",
        code="insufficient_quota",
        headers=headers,
    )


def server_error(status: int = 500) -> SimError:
    return SimError(
        status,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
        code=None,
    )


def render(error: SimError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


async def sim_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SimError)
    return render(exc)
