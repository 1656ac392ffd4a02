"""Wire shapes of the chat completions API: the request we accept, the objects we return.

Responses follow OpenAI's field for field (``chat.completion``,
``chat.completion.chunk``, ``usage``) so the official SDK parses them unchanged.
Unknown request fields (``temperature``, ``tools``, ``user``...) are accepted and
ignored, as a simulator should not reject a real client's request.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from llmsim import errors

SYSTEM_FINGERPRINT = "fp_llmsim"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[Any] | None = None
    name: str | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    n: int = Field(default=1, ge=1)
    seed: int | None = None

    @property
    def token_cap(self) -> int | None:
        """``max_completion_tokens`` (the current name) wins over ``max_tokens``."""
        if self.max_completion_tokens is not None:
            return self.max_completion_tokens
        return self.max_tokens

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


def parse_request(body: Any) -> ChatCompletionRequest:
    """Validate a request body, turning any problem into OpenAI's 400."""
    if not isinstance(body, dict):
        raise errors.bad_request("The request body must be a JSON object.")
    try:
        req = ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or None
        code = "missing_required_parameter" if first["type"] == "missing" else "invalid_value"
        raise errors.bad_request(
            f"Invalid value for '{param}': {first['msg']}.", param=param, code=code
        ) from None
    if req.n != 1:
        raise errors.bad_request("llmsim only supports n=1.", param="n", code="invalid_value")
    if req.stream_options is not None and not req.stream:
        raise errors.bad_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
            code="invalid_value",
        )
    return req


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_completion(
    *,
    completion_id: str,
    created: int,
    model: str,
    content: str,
    finish_reason: str,
    usage_obj: dict[str, Any],
) -> dict[str, Any]:
    return {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": content,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "usage": usage_obj,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def chunk(
    *,
    completion_id: str,
    created: int,
    model: str,
    delta: dict[str, Any] | None,
    finish_reason: str | None = None,
    usage_obj: dict[str, Any] | None = None,
    with_usage_field: bool = False,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; ``delta=None`` makes the usage-only chunk."""
    out: dict[str, Any] = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    # With include_usage every chunk carries "usage": null except the last, as OpenAI does.
    if with_usage_field or usage_obj is not None:
        out["usage"] = usage_obj
    return out
