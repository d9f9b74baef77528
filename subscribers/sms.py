"""The SMS channel: twilio's own client on its async HTTP client, and what Twilio's answers mean for us.

`api_base` replaces the Messages API's base URL (`https://api.twilio.com`) on the client's `api` domain,
which is where twilio builds every Messages URL from (`Domain.absolute_url`); tests point it at loopback.
A `Retry-After` on Twilio's reply (429, 503) is kept for the send that got it and honoured by the retry
policy: twilio's exceptions carry no headers, so the HTTP client notes it for the current task.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp  # twilio's async HTTP client is built on it; its errors are transport failures
from twilio.base import values
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.services.channels import DeliveryResult, OutgoingMessage
from jawazat_events.subscribers.gsm import GSM7_LIMIT
from jawazat_events.subscribers.ratelimit import RateLimiter
from jawazat_events.subscribers.retry_after import parse_retry_after

# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
PERMANENT_ERROR_CODES: dict[int, str] = {
    21211: "invalid 'To' phone number",
    21408: "sending to this region is not enabled",
    21610: "the recipient has unsubscribed (STOP) or is blocked",
    21614: "the 'To' number is not a mobile number",
    30006: "landline or unreachable carrier",
}
AUTHENTICATION_ERROR_CODE = 20003


def classify_twilio_error(status: int, code: int | None, message: str) -> DeliveryResult:
    """Map a Twilio error reply (HTTP status, Twilio error code, message) to retry or failed."""
    detail = f"Twilio HTTP {status}" + (f" error {code}" if code is not None else "") + f": {message}"
    if code in PERMANENT_ERROR_CODES:
        return DeliveryResult.failed(f"{detail} ({PERMANENT_ERROR_CODES[code]})")
    if status == 429:
        return DeliveryResult.retry(f"{detail} (rate limited)")
    if status == 401 or code == AUTHENTICATION_ERROR_CODE:
        # The account's credentials, not the message: retried so that fixing the configuration lets it out.
        return DeliveryResult.retry(f"{detail} (credentials rejected: check JAWAZAT_TWILIO_* settings)")
    if 400 <= status <= 499:
        return DeliveryResult.failed(detail)
    return DeliveryResult.retry(detail)


# The `Retry-After` of the reply the current task received last (each send runs in a task of its own).
_retry_after: ContextVar[float | None] = ContextVar("twilio_retry_after", default=None)


class _RetryAfterHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]  # twilio ships no types
    """twilio's async HTTP client, noting each reply's `Retry-After` for the task that sent the request."""

    async def request(self, *args: Any, **kwargs: Any) -> Response:
        response: Response = await super().request(*args, **kwargs)
        headers = response.headers
        _retry_after.set(parse_retry_after(headers.get("Retry-After") if headers is not None else None))
        return response


def _check_api_base(api_base: str) -> str:
    parts = urlsplit(api_base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"the Twilio API base must be an http(s) URL like https://api.twilio.com, not '{api_base}'"
        )
    return api_base.rstrip("/")


def _honouring(result: DeliveryResult) -> DeliveryResult:
    """A retry carrying the `Retry-After` Twilio sent with it, if any."""
    after = _retry_after.get()
    if result.outcome != AttemptOutcome.RETRY or after is None:
        return result
    return DeliveryResult.retry(f"{result.detail} (Retry-After {after:g} s)", retry_after=after)


class SmsChannel:
    """Sends alerts as SMS through Twilio's Messages API with twilio's async client."""

    name: ClassVar[str] = "sms"
    # Two segments: 306 GSM-7 septets, or 134 UCS-2 units for Arabic (see subscribers.gsm.fits_two_segments).
    max_length: ClassVar[int | None] = GSM7_LIMIT
    max_per_second: float = 10.0

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base: str | None = None,
        status_callback: str | None = None,
        timeout: float = 15.0,
        max_per_second: float | None = None,
    ) -> None:
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.api_base = _check_api_base(api_base) if api_base else None
        self.status_callback = status_callback
        self.timeout = timeout
        if max_per_second is not None:
            self.max_per_second = max_per_second
        self._limiter = RateLimiter.for_channel(self.max_per_second)
        # aiohttp sessions belong to one event loop, so the client is made on first use in that loop.
        self._client: Client | None = None
        self._http: _RetryAfterHttpClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _twilio(self) -> Client:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._http = _RetryAfterHttpClient(timeout=self.timeout)
            client = Client(self.account_sid, self._auth_token, http_client=self._http)
            if self.api_base is not None:
                client.api.base_url = self.api_base
                # twilio rewrites hosts for TWILIO_EDGE/TWILIO_REGION; an explicit base URL is taken as is.
                client.edge = None
                client.region = None
            self._client, self._loop = client, loop
        return self._client

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Ask Twilio to send the SMS; the result says sent (with the message SID), retry or failed."""
        if message.channel != "sms":
            return DeliveryResult.failed(f"the SMS channel cannot send a {message.channel} message")
        await self._limiter.acquire()
        client = self._twilio()
        _retry_after.set(None)
        try:
            async with asyncio.timeout(self.timeout):
                created = await client.api.v2010.accounts(self.account_sid).messages.create_async(
                    to=message.recipient,
                    from_=self.from_number,
                    body=message.text,
                    status_callback=self.status_callback or values.unset,
                )
        except TwilioRestException as error:
            return _honouring(classify_twilio_error(error.status, error.code, str(error.msg)))
        except TwilioServiceException as error:
            return _honouring(classify_twilio_error(error.status, error.code, error.detail or error.title))
        except TimeoutError:
            return DeliveryResult.retry(f"Twilio did not answer within {self.timeout:g} s")
        except (aiohttp.ClientError, OSError) as error:
            return DeliveryResult.retry(f"cannot reach Twilio: {type(error).__name__}: {error}")
        except ValueError as error:  # a 2xx reply that is not JSON; at-least-once beats losing the alert
            return DeliveryResult.retry(f"unreadable reply from Twilio: {error}")
        if not created.sid:
            return DeliveryResult.retry("Twilio accepted the request but returned no message SID")
        return DeliveryResult.sent(created.sid, detail=f"Twilio accepted: status {created.status}")

    async def aclose(self) -> None:
        """Close the HTTP session of the current event loop's client."""
        http, loop = self._http, self._loop
        self._client = self._http = self._loop = None
        if http is not None and loop is asyncio.get_running_loop():
            await http.close()
