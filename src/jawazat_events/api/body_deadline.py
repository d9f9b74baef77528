"""A deadline for a request's body: a client that declares a body and stalls gets 408 and loses the
connection, instead of holding it (and a server slot) forever. uvicorn has no such timeout of its own:
its keep-alive timeout only runs between requests."""

from __future__ import annotations

import asyncio
import json

from starlette.types import Message, Receive, Send

_DISCONNECT: Message = {"type": "http.disconnect"}


class BodyDeadline:
    """Wraps one request's `receive` and `send`: the whole body must have arrived `seconds` after the
    request started. On expiry it answers 408 with `Connection: close` (unless a response has started),
    tells the application the client went away, and drops whatever the application still sends."""

    def __init__(self, receive: Receive, send: Send, *, seconds: float) -> None:
        self._receive = receive
        self._send = send
        self.seconds = seconds
        self._deadline = asyncio.get_running_loop().time() + seconds
        self._body_done = False
        self._started = False
        self.expired = False

    async def receive(self) -> Message:
        """The next message of the request, or `http.disconnect` once the deadline has passed."""
        if self.expired:
            return _DISCONNECT
        if self._body_done:
            return await self._receive()
        remaining = self._deadline - asyncio.get_running_loop().time()
        try:
            message = await asyncio.wait_for(self._receive(), timeout=max(0.0, remaining))
        except TimeoutError:
            await self._expire()
            return _DISCONNECT
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._body_done = True
        return message

    async def send(self, message: Message) -> None:
        """Pass the application's messages on, until the deadline has answered for it."""
        if self.expired:
            return
        if message["type"] == "http.response.start":
            self._started = True
        await self._send(message)

    async def _expire(self) -> None:
        self.expired = True
        if self._started:
            return  # a response is under way: it ends as it is, the application just stops waiting
        body = json.dumps(
            {"detail": f"the request body did not arrive within {self.seconds:g} s; the connection is closed"}
        ).encode()
        await self._send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await self._send({"type": "http.response.body", "body": body})
