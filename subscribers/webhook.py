"""The webhook channel: alerts as signed JSON POSTs, per the Standard Webhooks specification.

Each message is a POST of the alert's JSON body with `webhook-id` (the alert id: the receiver's
idempotency key, the same on every retry), `webhook-timestamp` (Unix seconds at sending) and
`webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per signing secret, separated
by spaces while a rotated-out secret still signs), computed with the `standardwebhooks` package. What the
receiver's answer means: 2xx delivered; 410 Gone: the endpoint is retired (failed, and the delivery
disables it); 429, 502, 503, 504 and every other non-2xx: try again (with `Retry-After` honoured when
given); no answer within the timeout (15 s) or no connection: try again. Redirects are never followed.
Connections go through the SSRF guard's resolver (`subscribers.ssrf`), so only vetted addresses are used.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp
from standardwebhooks.webhooks import Webhook

from jawazat_events.domain.delivery import AttemptOutcome
from jawazat_events.domain.identifiers import mask_id_number
from jawazat_events.services.channels import ENDPOINT_GONE, DeliveryResult, OutgoingMessage
from jawazat_events.services.ports import QueuedAlert
from jawazat_events.subscribers.ratelimit import RateLimiter
from jawazat_events.subscribers.retry_after import parse_retry_after
from jawazat_events.subscribers.ssrf import GuardedResolver, UnsafeUrl, WebhookAddressPolicy

PAYLOAD_TYPE = "jawazat.alert"
USER_AGENT = "jawazat-events-webhooks/1"
RETRY_AFTER_STATUSES = frozenset({429, 502, 503, 504})
MAX_RESPONSE_BYTES = 64 * 1024


def payload(row: Mapping[str, Any], *, full_id_number: bool) -> str:
    """The JSON body for one alert row: `{"type", "timestamp", "data"}`, the same on every retry.

    `timestamp` is when the event occurred (UTC); `data` has the alert's fields, the ID number masked to
    its last four digits unless the establishment opted in, and the event's own facts.
    """
    data = {
        "alert_id": row["alert_id"],
        "event_id": row["event_id"],
        "event_type": row["event_type"],
        "notification_type": row["notification_type"],
        # An establishment's own request concerns no person: its ID number stays empty.
        "id_number": row["id_number"]
        if full_id_number or not row["id_number"]
        else mask_id_number(row["id_number"]),
        "establishment": row["establishment"],
        "channel": "webhook",
        "occurred_at": row["occurred_at"],
        "created_at": row["created_at"],
        "event": json.loads(row["payload"]),
    }
    body = {"type": PAYLOAD_TYPE, "timestamp": row["occurred_at"], "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class WebhookBodies:
    """The webhook body of a queued alert (`services.ports.WebhookRenderer`)."""

    def webhook_body(self, alert: QueuedAlert, *, full_id_number: bool) -> str:
        return payload(dataclasses.asdict(alert), full_id_number=full_id_number)


def signature_header(secrets: tuple[str, ...], msg_id: str, timestamp: datetime, body: str) -> str:
    """`webhook-signature`: one `v1,…` signature per secret, space-separated."""
    return " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets)


class WebhookChannel:
    """POSTs alerts to establishments' endpoints, signed, through the SSRF guard."""

    name: ClassVar[str] = "webhook"
    max_length: ClassVar[int | None] = None
    max_per_second: float = 250.0

    def __init__(
        self,
        *,
        policy: WebhookAddressPolicy,
        timeout: float = 15.0,
        max_per_second: float | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        if max_per_second is not None:
            self.max_per_second = max_per_second
        self._limiter = RateLimiter.for_channel(self.max_per_second)
        self._wall_clock = wall_clock
        # aiohttp sessions belong to one event loop: made on first use in the loop that sends.
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                resolver=GuardedResolver(self.policy), use_dns_cache=False, limit=100, limit_per_host=20
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                headers={"User-Agent": USER_AGENT},
                trust_env=False,  # never through a proxy from the environment: the guard checks the target
            )
            self._loop = loop
        return self._session

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """POST the signed message; the result says sent, retry (maybe with Retry-After) or failed."""
        if message.channel != "webhook":
            return DeliveryResult.failed(f"the webhook channel cannot send a {message.channel} message")
        if not message.signing_secrets:
            return DeliveryResult.retry("no webhook secret is available to sign the message")
        try:
            url = self.policy.check_url(message.recipient)
            host = urlsplit(url).hostname or ""
        except UnsafeUrl as error:
            return DeliveryResult.failed(f"refused by the SSRF guard: {_plain(error)}")
        await self._limiter.acquire()
        now = self._wall_clock()
        stamp = datetime.fromtimestamp(int(now), tz=UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": message.alert_id,
            "webhook-timestamp": str(int(now)),
            "webhook-signature": signature_header(
                message.signing_secrets, message.alert_id, stamp, message.text
            ),
        }
        try:
            async with self._client().post(
                url, data=message.text.encode("utf-8"), headers=headers, allow_redirects=False
            ) as response:
                await response.content.read(MAX_RESPONSE_BYTES)
                status = response.status
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After"), now=datetime.fromtimestamp(self._wall_clock(), UTC)
                )
        except UnsafeUrl as error:
            return DeliveryResult.failed(f"refused by the SSRF guard: {_plain(error)}")
        except TimeoutError:
            return DeliveryResult.retry(f"the receiver did not answer within {self.timeout:g} s")
        except aiohttp.ClientConnectorError as error:
            cause = error.os_error
            if isinstance(cause, UnsafeUrl):
                return DeliveryResult.failed(f"refused by the SSRF guard: {_plain(cause)}")
            return DeliveryResult.retry(f"cannot connect to {host}: {cause.strerror or type(cause).__name__}")
        except (aiohttp.ClientError, OSError) as error:
            return DeliveryResult.retry(f"the connection to {host} failed: {type(error).__name__}: {error}")
        return classify(status, retry_after)

    async def aclose(self) -> None:
        """Close the HTTP session of the current event loop."""
        session, loop = self._session, self._loop
        self._session = self._loop = None
        if session is not None and loop is asyncio.get_running_loop():
            await session.close()


def classify(status: int, retry_after: float | None) -> DeliveryResult:
    """What a receiver's HTTP status means for the alert."""
    if 200 <= status <= 299:
        return DeliveryResult(AttemptOutcome.SENT, f"the receiver answered HTTP {status}")
    if status == 410:
        return DeliveryResult(
            AttemptOutcome.FAILED,
            "the receiver answered HTTP 410 Gone: the endpoint is disabled",
            signal=ENDPOINT_GONE,
        )
    if 300 <= status <= 399:
        return DeliveryResult.retry(
            f"the receiver answered HTTP {status} (a redirect): redirects are not followed"
        )
    if status in RETRY_AFTER_STATUSES:
        return DeliveryResult.retry(f"the receiver answered HTTP {status}", retry_after=retry_after)
    return DeliveryResult.retry(f"the receiver answered HTTP {status}")


def _plain(error: Exception) -> str:
    return str(error).removeprefix("webhook_url: ")
