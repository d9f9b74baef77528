"""`/v1/callbacks/twilio`: Twilio's message status callbacks, checked by signature and handed to delivery.

Twilio sends a form-encoded body (MessageSid, MessageStatus, ErrorCode…) signed in `X-Twilio-Signature`
over the URL it called: `JAWAZAT_TWILIO_STATUS_CALLBACK_URL` when set (the public URL, behind any proxy).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request, Response
from starlette.concurrency import run_in_threadpool

from jawazat_events.api.deps import State
from jawazat_events.api.errors import responses
from jawazat_events.api.state import ApiState

router = APIRouter(prefix="/v1/callbacks", tags=["callbacks"])

_FORM_SCHEMA = {
    "type": "object",
    "properties": {
        "MessageSid": {"type": "string"},
        "MessageStatus": {"type": "string"},
        "ErrorCode": {"type": "string"},
    },
    "required": ["MessageSid", "MessageStatus"],
}


def called_url(request: Request, state: ApiState) -> str:
    """The URL Twilio signed: the status callback URL it was given when configured (the public one, behind
    any proxy), else the URL this request came to."""
    configured = state.container.settings.twilio_status_callback_url
    return configured or str(request.url)


@router.post(
    "/twilio",
    status_code=204,
    response_class=Response,
    responses={
        204: {"description": "status recorded"},
        **responses(403, 413, 422),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _FORM_SCHEMA}},
        }
    },
    summary="Twilio message status callback",
)
async def twilio_status(request: Request, state: State) -> Response:
    """Recorded on the alert whose message Twilio names; 403 when the signature does not verify."""
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise HTTPException(status_code=403, detail="missing X-Twilio-Signature")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(status_code=403, detail="the body is not a Twilio form") from None
    params: dict[str, str] = dict(parse_qsl(text, keep_blank_values=True))
    callbacks = state.container.twilio_callbacks
    accepted = await run_in_threadpool(callbacks.handle, params, called_url(request, state), signature)
    if not accepted:
        raise HTTPException(status_code=403, detail="the Twilio signature does not verify")
    return Response(status_code=204)
