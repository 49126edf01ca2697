"""One request and its answer, as the fake Hub's routes and fault hooks see them.

A module of its own so that the fault injectors (``faults.py``) can build
responses while the server imports them, without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import orjson

if TYPE_CHECKING:
    from fakehub.server import FakeHub

JSON_TYPE: Final = "application/json; charset=utf-8"
TEXT_TYPE: Final = "text/plain; charset=utf-8"


@dataclass(slots=True)
class HubRequest:
    """One parsed request, as the routes and the fault hooks see it."""

    method: str
    target: str  # path and query exactly as sent
    path: str
    query: list[tuple[str, str]]
    authorization: str | None
    request_id: str
    # Scratch space a hook fills in ``before`` and reads back in ``after``:
    # both run on the request's own thread, so nothing here needs a lock.
    state: dict[str, Any] = field(default_factory=dict)

    def values(self, *names: str) -> list[str]:
        return [v for k, v in self.query if k in names]

    def last(self, name: str) -> str | None:
        found = self.values(name)
        return found[-1] if found else None


@dataclass(slots=True)
class HubResponse:
    """What the handler writes: Content-Length and X-Request-Id are added there.

    ``delay`` holds the answer back (slow servers, long pages); ``send`` cuts
    the body after that many bytes while Content-Length still announces all of
    it, then closes the connection; ``reset`` answers nothing at all and resets
    the connection (status, body and headers are then ignored).
    """

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False  # close the connection after this response
    delay: float = 0.0
    send: int | None = None
    reset: bool = False

    @classmethod
    def connection_reset(cls) -> HubResponse:
        return cls(0, reset=True)

    @property
    def rejected(self) -> bool:
        """A refusal that costs the client no quota: 429, 5xx or a reset."""
        return self.reset or self.status == 429 or self.status >= 500


class Faults:
    """Hook points for injected failures; the base class injects none.

    ``before`` may answer instead of the hub (a 429, a 5xx, a reset);
    ``after`` may rewrite the hub's answer (a cut body, a delay). The built-in
    injector is ``fakehub.faults.FaultInjector``.
    """

    def before(self, hub: FakeHub, request: HubRequest) -> HubResponse | None:
        return None

    def after(
        self, hub: FakeHub, request: HubRequest, response: HubResponse
    ) -> HubResponse:
        return response


def json_error(
    status: int, message: str, *, code: str | None = None, header: bool = False
) -> HubResponse:
    """The Hub's error envelope ``{"error": ...}``, with its error headers."""
    headers = []
    if code is not None:
        headers.append(("X-Error-Code", code))
    if header:
        headers.append(("X-Error-Message", message))
    return HubResponse(status, orjson.dumps({"error": message}), headers=headers)
