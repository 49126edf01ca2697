"""Rate-limit quotas and transient faults for the fake Hub (hub-api.md §7, §8).

``Quota`` counts requests per bucket in fixed windows and answers 429 past the
quota, with the ``RateLimit`` / ``RateLimit-Policy`` headers the Hub sends on
every response. ``FaultRates`` configures a ``FaultInjector``, a ``Faults`` hook
that fails some ``/api/models`` requests the way real servers and networks do:
per-action 429s, 5xx, resets, truncated bodies, bad JSON, slow answers. Each
fault is transient: the same request fails at most a few times, so a client
that retries always gets through.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Final

from fakehub.exchange import Faults, HubRequest, HubResponse, json_error
from hfcrawl.ratelimit import bucket_of

if TYPE_CHECKING:
    from fakehub.server import FakeHub

BUCKETS: Final = ("api", "resolvers", "pages")
FAULT_KINDS: Final = ("429", "5xx", "reset", "truncated", "bad_json", "slow")
SERVER_ERRORS: Final = (500, 502, 503, 504)
_STATE_KEY: Final = "fault"
_FAULTY: Final = ("/api/models", "/api/datasets")  # the paths faults hit


class Stats(Mapping[str, int]):
    """Thread-safe counters; a key never counted reads as 0.

    Keys: ``requests.<bucket>`` (every request received), ``status.<code>``
    (every response written; resets have none), ``429.<bucket>.quota`` (window
    quota exceeded), ``429.<bucket>.fault`` (any other 429: injected per-action
    limits, or a custom hook's), ``fault.<kind>`` for each kind in
    ``FAULT_KINDS`` actually injected.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def incr(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def __getitem__(self, key: str) -> int:
        with self._lock:
            return self._counts[key]

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._counts

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._counts)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def __repr__(self) -> str:
        return f"Stats({self.snapshot()!r})"


# --- quotas --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Quota:
    """Requests allowed per fixed window of ``window`` seconds, per bucket.

    None leaves a bucket unlimited, and without RateLimit headers. The Hub's
    windows are 300 s; tests want a second or two.
    """

    api: int | None = None
    resolvers: int | None = None
    pages: int | None = None
    window: float = 300.0

    def __post_init__(self) -> None:
        for bucket in BUCKETS:
            limit = getattr(self, bucket)
            if limit is not None and (
                not isinstance(limit, int) or isinstance(limit, bool) or limit < 0
            ):
                raise ValueError(f"quota {bucket}={limit!r}: expected an int >= 0")
        if not self.window > 0:
            raise ValueError(f"quota window={self.window!r}: expected seconds > 0")

    def limit(self, bucket: str) -> int | None:
        limit: int | None = getattr(self, bucket)
        return limit


@dataclass(slots=True)
class Ticket:
    """One request's place in its bucket's current window."""

    bucket: str
    granted: bool
    remaining: int  # after this request
    reset_in: int  # whole seconds until the window ends, rounded up
    quota: int
    window: int  # the policy's w, whole seconds
    index: int  # which window, counted from the hub's start

    def headers(self) -> list[tuple[str, str]]:
        # Exactly the Hub's format (draft-ietf-httpapi-ratelimit-headers-09).
        return [
            ("RateLimit", f'"{self.bucket}";r={self.remaining};t={self.reset_in}'),
            (
                "RateLimit-Policy",
                f'"fixed window";"{self.bucket}";q={self.quota};w={self.window}',
            ),
        ]


class RateLimiter:
    """Per-bucket counts in fixed windows aligned to ``restart()``; all clients share them."""

    def __init__(
        self, quota: Quota | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.quota = quota
        self._epoch = clock()
        self._used: dict[str, tuple[int, int]] = {}  # bucket -> (window, used)

    def restart(self) -> None:
        """Window 0 starts now, with nothing used."""
        with self._lock:
            self._epoch = self._clock()
            self._used.clear()

    def set_quota(self, quota: Quota | None) -> None:
        """A new quota, counted afresh within the current window."""
        with self._lock:
            self.quota = quota
            self._used.clear()

    def take(self, bucket: str) -> Ticket | None:
        """Count one request; None when the bucket has no quota."""
        quota = self.quota
        limit = quota.limit(bucket) if quota is not None else None
        if quota is None or limit is None:
            return None
        window = quota.window
        with self._lock:
            now = self._clock()
            index = int((now - self._epoch) // window)
            end = self._epoch + (index + 1) * window
            seen, used = self._used.get(bucket, (index, 0))
            if seen != index:
                used = 0
            granted = used < limit
            if granted:
                used += 1
            self._used[bucket] = (index, used)
        return Ticket(
            bucket=bucket,
            granted=granted,
            remaining=limit - used,
            reset_in=max(1, math.ceil(end - now)),
            quota=limit,
            window=math.ceil(window),
            index=index,
        )

    def refund(self, ticket: Ticket) -> None:
        """Give back a granted request the hub refused after all (429, 5xx, reset)."""
        if not ticket.granted:
            return
        ticket.remaining += 1
        with self._lock:
            seen, used = self._used.get(ticket.bucket, (-1, 0))
            # A refund that arrives after its window ended has nothing to undo.
            if seen == ticket.index and used > 0:
                self._used[ticket.bucket] = (seen, used - 1)

    @staticmethod
    def exceeded(ticket: Ticket) -> HubResponse:
        return json_error(
            429,
            f'You have exceeded the rate limit for the "{ticket.bucket}" bucket'
            f" ({ticket.quota} requests per {ticket.window} seconds)."
            f" Retry in {ticket.reset_in} seconds.",
        )


# --- latency -------------------------------------------------------------------


class Latency:
    """A seeded spread of answer delays: uniform from ``low`` to ``high`` seconds.

    Real answers take from tens of milliseconds to a second, so a crawler keeps
    many requests in flight and their answers arrive out of order.
    """

    def __init__(self, low: float, high: float, seed: int = 0) -> None:
        if not 0 <= low <= high:
            raise ValueError(f"latency {low!r}-{high!r}: expected 0 <= low <= high")
        self.low, self.high = low, high
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> Latency:
        """``"0.02-0.3"`` (a range) or ``"0.1"`` (fixed), in seconds."""
        low, sep, high = text.partition("-")
        try:
            lo = float(low)
            hi = float(high) if sep else lo
        except ValueError:
            raise ValueError(
                f"latency {text!r}: expected SECONDS or LOW-HIGH"
            ) from None
        return cls(lo, hi, seed)

    def draw(self) -> float:
        with self._lock:
            return self._rng.uniform(self.low, self.high)


# --- transient faults ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FaultRates:
    """How often each fault hits an eligible request (0..1, summing to 1 at most).

    Eligible: GETs of ``/api/models``, ``/api/datasets`` and the records under
    them, narrowed to the
    path prefixes in ``only_paths`` when given. ``max_failures_per_request``
    bounds the faults one request (method, path and query) ever gets.
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_reset: float = 0.0
    rate_truncated: float = 0.0
    rate_bad_json: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 5.0
    retry_after: int = 1
    max_failures_per_request: int = 2
    seed: int = 0
    only_paths: tuple[str, ...] | None = None
    _bounds: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rates = self.rates()
        for kind, rate in zip(FAULT_KINDS, rates, strict=True):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"rate_{kind}={rate!r}: expected 0..1")
        if sum(rates) > 1.0 + 1e-9:
            raise ValueError(f"fault rates add up to {sum(rates):g}, more than 1")
        if self.slow_seconds < 0:
            raise ValueError(f"slow_seconds={self.slow_seconds!r}: expected >= 0")
        if self.retry_after < 0:
            raise ValueError(f"retry_after={self.retry_after!r}: expected >= 0")
        if self.max_failures_per_request < 0:
            raise ValueError(
                f"max_failures_per_request={self.max_failures_per_request!r}:"
                " expected >= 0"
            )
        if isinstance(self.only_paths, str):
            # A bare string would be iterated character by character.
            object.__setattr__(self, "only_paths", (self.only_paths,))
        bounds = []
        total = 0.0
        for rate in rates:
            total += rate
            bounds.append(total)
        object.__setattr__(self, "_bounds", tuple(bounds))

    def rates(self) -> tuple[float, ...]:
        """The rates in ``FAULT_KINDS`` order."""
        return (
            self.rate_429,
            self.rate_5xx,
            self.rate_reset,
            self.rate_truncated,
            self.rate_bad_json,
            self.rate_slow,
        )

    @property
    def active(self) -> bool:
        return any(self.rates())

    def pick(self, draw: float) -> str | None:
        """The fault a uniform draw in [0, 1) lands on, if any."""
        for kind, bound in zip(FAULT_KINDS, self._bounds, strict=True):
            if draw < bound:
                return kind
        return None


class FaultInjector(Faults):
    """The ``Faults`` hook that injects ``FaultRates``' faults.

    One seeded draw per eligible request decides its fault, so a run is
    repeatable for a given seed and request order. 429s, 5xx and resets answer
    instead of the hub; truncation and bad JSON only spoil a 200 (any other
    answer is left alone and costs no failure); slowness delays any answer.
    """

    def __init__(self, rates: FaultRates) -> None:
        self.rates = rates
        self._lock = threading.Lock()
        self._rng = random.Random(rates.seed)
        self._failures: Counter[tuple[str, str]] = Counter()

    def failures(self, method: str, target: str) -> int:
        """How many faults the request ``method target`` has had so far."""
        with self._lock:
            return self._failures[(method, target)]

    def eligible(self, request: HubRequest) -> bool:
        path = request.path
        if request.method != "GET" or not (
            path in _FAULTY or path.startswith(tuple(f"{p}/" for p in _FAULTY))
        ):
            return False
        only = self.rates.only_paths
        return only is None or any(path.startswith(prefix) for prefix in only)

    def before(self, hub: FakeHub, request: HubRequest) -> HubResponse | None:
        rates = self.rates
        if not self.eligible(request):
            return None
        key = (request.method, request.target)
        with self._lock:
            kind = rates.pick(self._rng.random())
            if kind is None or self._failures[key] >= rates.max_failures_per_request:
                return None
            self._failures[key] += 1
            # Drawn under the same lock, so the sequence stays seed-determined.
            extra = self._rng.random()
        request.state[_STATE_KEY] = (kind, extra)
        if kind == "429":
            hub.stats.incr("fault.429")
            return self._per_action_limit(request)
        if kind == "5xx":
            hub.stats.incr("fault.5xx")
            status = SERVER_ERRORS[int(extra * len(SERVER_ERRORS))]
            return json_error(status, HTTPStatus(status).phrase)
        if kind == "reset":
            hub.stats.incr("fault.reset")
            return HubResponse.connection_reset()
        return None  # the rest spoil the hub's own answer, in after()

    def after(
        self, hub: FakeHub, request: HubRequest, response: HubResponse
    ) -> HubResponse:
        found = request.state.get(_STATE_KEY)
        if found is None:
            return response
        kind, extra = found
        if kind == "slow":
            hub.stats.incr("fault.slow")
            response.delay += self.rates.slow_seconds
        elif kind in ("truncated", "bad_json"):
            body = response.body
            if response.status != 200 or len(body) < 2 or response.reset:
                self._release(request)
                return response
            cut = 1 + int(extra * (len(body) - 1))  # 1 .. len - 1 bytes kept
            if kind == "truncated":
                response.send = cut
            else:
                # A proper prefix of compact JSON text is never valid JSON.
                response.body = body[:cut]
            hub.stats.incr(f"fault.{kind}")
        return response

    def _per_action_limit(self, request: HubRequest) -> HubResponse:
        wait = self.rates.retry_after
        response = json_error(
            429,
            "You have exceeded the rate limit for this action."
            f" Retry in {wait} seconds.",
        )
        # r > 0 marks a per-action limit, not the window (hub-api.md §8). When
        # the bucket has a quota the hub puts the window's real values here.
        response.headers.append(
            ("RateLimit", f'"{bucket_of(request.path)}";r=1;t={wait}')
        )
        response.headers.append(("Retry-After", str(wait)))
        return response

    def _release(self, request: HubRequest) -> None:
        key = (request.method, request.target)
        with self._lock:
            if self._failures[key] > 0:
                self._failures[key] -= 1
