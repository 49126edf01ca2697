"""A loopback HTTP server that answers like the Hub's ``/api/models`` endpoints.

Behaviour follows ``docs/hub-api.md`` §2, §3 and §7: cursor paging through an
absolute ``Link`` header, ``expand`` / ``expand[]`` with the Hub's 400s, 307s
for renamed ids, 401 vs 404 for missing or private repos, 403 for disabled ones.
Optionally (§8 and ``faults.py``) per-bucket RateLimit quotas and transient
faults: 429s, 5xx, resets, truncated bodies, bad JSON, slow answers.

Speed matters more than features: a listing item is serialised once per
(record, field set) into byte fragments that reference the shared bytes of its
template's big nested values, a page is one join of those, and the filtered,
sorted id list of a query is computed once, so paging is O(page).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gc
import itertools
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qsl, quote, unquote, urlencode

import orjson

from fakehub import activity
from fakehub.cards import Cards
from fakehub.datasets import datasets
from fakehub.exchange import (
    TEXT_TYPE,
    Faults,
    HubRequest,
    HubResponse,
    json_error,
)
from fakehub.faults import (
    FaultInjector,
    FaultRates,
    Latency,
    Quota,
    RateLimiter,
    Stats,
    bucket_of,
)
from fakehub.forest import Forest
from fakehub.papers import Papers
from fakehub.records import (
    DETAIL_ONLY_KEYS,
    EXPAND_ONLY_KEYS,
    REDIRECTS,
    Record,
    build_records,
    redirect_body,
)
from fakehub.spaces import spaces
from fakehub.tasks import answer_tasks

# The values /api/models accepts in expand (hub-api.md §2.2), in output order.
# Written out here rather than imported from hfcrawl.hub on purpose: the fake Hub
# is the oracle the spider's own list is tested against (unknown values get 400).
LIST_EXPAND: Final = (
    "author",
    "cardData",
    "config",
    "createdAt",
    "disabled",
    "downloads",
    "downloadsAllTime",
    "evalResults",
    "gated",
    "gguf",
    "inference",
    "inferenceProviderMapping",
    "lastModified",
    "library_name",
    "likes",
    "mask_token",
    "model-index",
    "pipeline_tag",
    "private",
    "resourceGroup",
    "safetensors",
    "sha",
    "siblings",
    "spaces",
    "tags",
    "transformersInfo",
    "trendingScore",
    "widgetData",
)
DETAIL_EXPAND: Final = (*LIST_EXPAND, "baseModels", "childrenModelCount", "usedStorage")
DEFAULT_LIST_KEYS: Final = (
    "_id",
    "id",
    "likes",
    "trendingScore",
    "private",
    "downloads",
    "tags",
    "pipeline_tag",
    "library_name",
    "createdAt",
    "modelId",
)
SORTS: Final = frozenset(
    {"createdAt", "downloads", "lastModified", "likes", "trendingScore", "id"}
)
MAX_LIMIT: Final = 1000
DEFAULT_OWNER_TOKEN: Final = "hf_fake_owner_token"
ROBOTS: Final = b"User-agent: *\nAllow: /\n"

_LIST_EXPAND_SET: Final = frozenset(LIST_EXPAND)
_DETAIL_EXPAND_SET: Final = frozenset(DETAIL_EXPAND)
_NUMERIC_SORTS: Final = frozenset({"downloads", "likes", "trendingScore"})
_MAX_CACHED_QUERIES: Final = 256
_MAX_CACHED_VIEWS: Final = 32
_TRUE: Final = frozenset({"true", "1", "yes"})
# Values clones share with their template: serialised once, referenced after.
_SHARED_KEYS: Final = frozenset(
    {
        "cardData",
        "config",
        "model-index",
        "safetensors",
        "siblings",
        "spaces",
        "transformersInfo",
        "widgetData",
    }
)
_ITEM_OVERHEAD: Final = 120  # a tuple and its bytes headers, roughly


class BadRequest(ValueError):
    """A parameter the Hub would refuse with 400."""


@dataclass(frozen=True, slots=True)
class _Query:
    sort: str | None
    search: str | None = None
    author: str | None = None
    filters: tuple[str, ...] = ()
    pipeline_tag: str | None = None
    gated: bool | None = None
    inference: str | None = None

    def selects_all(self) -> bool:
        return self == _Query(self.sort)


@dataclass(frozen=True, slots=True)
class _View:
    """The keys of a listing item: ``keys``, or (None) the record minus ``exclude``."""

    keys: tuple[str, ...] | None
    exclude: frozenset[str] = frozenset()

    @property
    def small(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys or () if k not in _SHARED_KEYS)

    @property
    def big(self) -> tuple[str, ...]:
        return tuple(k for k in self.keys or () if k in _SHARED_KEYS)


_DEFAULT_VIEW: Final = _View(DEFAULT_LIST_KEYS)
# What a crawler asks for: every listing field (hfcrawl.hub.MODEL_LIST_EXPAND).
_FULL_EXPAND_VIEW: Final = _View(("_id", "id", *LIST_EXPAND))


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in _TRUE


def _encode_cursor(position: int) -> str:
    raw = base64.urlsafe_b64encode(orjson.dumps({"$pos": position}))
    return raw.rstrip(b"=").decode()


def _decode_cursor(cursor: str) -> int:
    try:
        data = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise BadRequest("Invalid cursor") from exc
    position = data.get("$pos") if isinstance(data, dict) else None
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise BadRequest("Invalid cursor")
    return position


def _listing_mapping(mapping: dict[str, Any]) -> list[Any]:
    # The listing sends a list of {provider, ...}; model_info a dict by provider.
    return [
        {"provider": p, **m} if isinstance(m, dict) else m for p, m in mapping.items()
    ]


class _Serialiser:
    """Listing items as tuples of byte fragments that concatenate to the JSON.

    The big nested values (siblings, spaces, config, cardData...) are shared by
    the clones of one template, so their bytes are made once and every item
    holds references to them: a cached full-expand item costs about 1 kB
    instead of 10 kB, and a page is one ``b"".join``. The small members are
    serialised in one call and come first; JSON objects are unordered, and the
    Hub's key order is not specified either.
    """

    def __init__(self) -> None:
        self._shared: dict[int, bytes] = {}
        self._keys: dict[tuple[str, bool], bytes] = {}
        self._splits: dict[_View, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def fragments(self, rec: Record, view: _View) -> tuple[tuple[bytes, ...], int]:
        """The item's fragments, and how many bytes of them are its own."""
        big: list[tuple[str, Any]] = []
        if view.keys is None:
            small = {}
            for key, value in rec.items():
                if key in view.exclude:
                    continue
                if key in _SHARED_KEYS and value and isinstance(value, list | dict):
                    big.append((key, value))
                else:
                    small[key] = value
        else:
            split = self._splits.get(view)
            if split is None:
                split = self._splits[view] = (view.small, view.big)
            small = {k: rec[k] for k in split[0] if k in rec}
            for key in split[1]:
                if key in rec:
                    value = rec[key]
                    if value and isinstance(value, list | dict):
                        big.append((key, value))
                    else:
                        small[key] = value
        mapping = small.get("inferenceProviderMapping")
        if isinstance(mapping, dict):
            small["inferenceProviderMapping"] = _listing_mapping(mapping)
        head = orjson.dumps(small)
        # Slicing copies: orjson's result keeps a ~4 kB allocation however
        # short it is, which would make a 300-byte cached item cost 4 kB.
        frags = [head[:-1]]
        comma = len(head) > 2  # not "{}"
        for key, value in big:
            frags.append(self._key(key, comma))
            frags.append(self._value(value))
            comma = True
        frags.append(b"}")
        return tuple(frags), len(head)

    def _key(self, key: str, comma: bool) -> bytes:
        found = self._keys.get((key, comma))
        if found is None:
            found = b"," * comma + orjson.dumps(key) + b":"
            self._keys[(key, comma)] = found
        return found

    def _value(self, value: Any) -> bytes:
        # Records live as long as the hub, so an object's id() is stable.
        found = self._shared.get(id(value))
        if found is None:
            found = self._shared[id(value)] = orjson.dumps(value)
        return found


def _matches(rec: Record, q: _Query) -> bool:
    repo_id = rec.get("id")
    if q.search is not None and (
        not isinstance(repo_id, str) or q.search not in repo_id.lower()
    ):
        return False
    if q.author is not None:
        author = rec.get("author")
        if author is None and isinstance(repo_id, str) and "/" in repo_id:
            author = repo_id.partition("/")[0]
        if author != q.author:
            return False
    if q.pipeline_tag is not None and rec.get("pipeline_tag") != q.pipeline_tag:
        return False
    if q.filters:
        tags = rec.get("tags")
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or any(f not in tags for f in q.filters):
            return False
    if q.gated is not None and (rec.get("gated") not in (False, None)) != q.gated:
        return False
    return q.inference is None or rec.get("inference") == q.inference


def _sort_key(sort: str, rec: Record) -> Any:
    value = rec.get(sort)
    if sort in _NUMERIC_SORTS:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return value if ok else float("-inf")
    if sort == "id":
        return value if isinstance(value, str) else ""
    # Dates: ISO strings sort as text; anything else goes last.
    return value if isinstance(value, str) and value[:1].isdigit() else ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive handler threads block in recv until the client leaves, so
    # closing must not wait for them; stop() shuts their sockets instead.
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], hub: FakeHub) -> None:
        self.hub = hub
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        self.resets: set[socket.socket] = set()  # to close with a RST, no FIN
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, which can stall
        # without DNS; the name is never used here.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
            reset = request in self.resets
            self.resets.discard(request)
        if reset:
            # shutdown(SHUT_WR) would send a FIN first, which clients read as
            # a clean end of stream; a plain close with SO_LINGER 0 is a RST.
            self.close_request(request)
        else:
            super().shutdown_request(request)

    def reset_on_close(self, request: socket.socket) -> None:
        with contextlib.suppress(OSError):
            request.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        with self.connections_lock:
            self.resets.add(request)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-response is routine for a crawler under test.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "fakehub"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        self.server.hub.serve(self, "GET")

    def do_HEAD(self) -> None:
        self.server.hub.serve(self, "HEAD")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is FakeHub.requests


class FakeHub:
    """The fake Hub: ``FakeHub(n_models=2500).start()``, or use it as a context.

    ``records`` holds every record (listed ones in the listing's default order,
    then the private ones). ``requests`` is the log of (method, path with query,
    Authorization header or None). ``cache_bytes`` bounds the serialised listing
    items kept in memory; ``warm`` fills that cache for the all-fields listing
    up front.

    Failure injection, all off by default: ``quota`` (a ``Quota``) enforces
    per-bucket RateLimit windows counted from ``start()``; ``faults`` takes
    ``FaultRates`` (built-in transient faults) or any ``Faults`` hook;
    ``page_delay`` holds back every ``/api/models`` listing answer that many
    seconds. ``forest=N`` adds N model lineage trees (``fakehub/forest.py``,
    ``self.forest``). ``set_quota`` / ``set_faults`` / ``page_delay`` change them while
    serving; ``stats`` counts requests, statuses, 429s and faults.
    """

    def __init__(
        self,
        n_models: int = 1000,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        broken: bool = False,
        *,
        owner_token: str = DEFAULT_OWNER_TOKEN,
        faults: Faults | FaultRates | None = None,
        quota: Quota | None = None,
        page_delay: float = 0.0,
        latency: Latency | None = None,
        refund_failures: bool = False,
        n_datasets: int = 300,
        n_spaces: int = 300,
        cache_bytes: int = 256 * 2**20,
        warm: bool = True,
        forest: int = 0,
    ) -> None:
        self.n_models = n_models
        self.host = host
        self.port = port
        self.seed = seed
        self.broken = broken
        self.owner_token = owner_token
        self.faults: Faults | None = None
        self.set_faults(faults)
        self.page_delay = page_delay
        self.latency = latency
        self.refund_failures = refund_failures
        self.cards = Cards(self)  # README.md through /resolve/
        self.stats = Stats()
        self._limiter = RateLimiter(quota)
        self._stopping = threading.Event()
        self.cache_bytes = cache_bytes
        self.records: list[Record] = build_records(n_models, seed, broken)
        # forest=N: N lineage trees (fakehub/forest.py) after the other records
        self.forest = Forest(forest) if forest else None
        renames = {old: new for old, (new, _) in REDIRECTS.items()}
        if self.forest is not None:
            self.records.extend(self.forest.records)
            renames.update(self.forest.redirects)
        self._renames = renames
        self._by_id = {
            r["id"]: i
            for i, r in enumerate(self.records)
            if isinstance(r.get("id"), str)
        }
        self._listed = [
            i for i, r in enumerate(self.records) if r.get("private") is not True
        ]
        named = (
            t[len("dataset:") :]
            for r in self.records
            for t in r.get("tags") or ()
            if isinstance(t, str) and t.startswith("dataset:")
        )
        self.datasets = datasets(self, n_datasets, seed, named)
        self.spaces = spaces(self, n_spaces, seed)
        self.papers = Papers(self)  # cites the records above
        self._redirect_bodies = {
            old: redirect_body(old)
            if old in REDIRECTS
            else f"Temporary Redirect. Redirecting to /api/models/{new}".encode()
            for old, new in renames.items()
        }
        self._lock = threading.Lock()
        self._orders: dict[str, list[int]] = {}
        self._matching_cache: dict[_Query, list[int]] = {}
        self._views: dict[_View, list[tuple[bytes, ...] | None]] = {}
        self._serialiser = _Serialiser()
        self._cached_bytes = 0
        self._log: list[tuple[str, str, str | None]] = []
        self._request_ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if warm:
            self.warm()

    def warm(self) -> None:
        """Serialise every listed record for the all-fields listing now.

        Building items costs ~20 us each on a slow machine, which would cap
        the first pass at ~50,000 models/s; from the cache a page is a join.
        """
        was_enabled = gc.isenabled()
        gc.disable()  # many small new objects, no cycles among them
        try:
            order = self._listed
            for start in range(0, len(order), MAX_LIMIT):
                self._items(order[start : start + MAX_LIMIT], _FULL_EXPAND_VIEW)
        finally:
            if was_enabled:
                gc.enable()

    # -- change ---------------------------------------------------------------
    def modify(self, changes: dict[str, dict[str, Any]]) -> None:
        """Change models as a commit would: ``{id: {field: value}}`` merged into
        their records; every cached order, match and body is dropped."""
        with self._lock:
            for repo_id, fields in changes.items():
                self.records[self._by_id[repo_id]].update(fields)
            self._orders.clear()
            self._matching_cache.clear()
            self._views.clear()
            self._serialiser = _Serialiser()
            self._cached_bytes = 0

    # -- failure injection ----------------------------------------------------
    @property
    def quota(self) -> Quota | None:
        return self._limiter.quota

    def set_quota(self, quota: Quota | None) -> None:
        """Enforce ``quota`` from now on, counting afresh in the current window."""
        self._limiter.set_quota(quota)

    def set_faults(self, faults: Faults | FaultRates | None) -> None:
        """Install a fault hook; ``FaultRates`` get a fresh ``FaultInjector``."""
        if isinstance(faults, FaultRates):
            # All-zero rates inject nothing; skipping the hook skips its lock.
            self.faults = FaultInjector(faults) if faults.active else None
        else:
            self.faults = faults

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            # Quota windows are aligned to the moment the hub starts serving.
            self._limiter.restart()
            server = _Server((self.host, self.port), self)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fakehub-{server.server_port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
            thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        self._server = self._thread = None
        self._stopping.set()  # wakes handlers held back by a delay
        server.shutdown()
        server.server_close()
        server.close_connections()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake hub is not started")
        host = self._server.server_name
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._server.server_port}"

    @property
    def listed_count(self) -> int:
        """How many records the listing holds (public ones, broken ones included)."""
        return len(self._listed)

    # -- request log ----------------------------------------------------------
    @property
    def requests(self) -> list[tuple[str, str, str | None]]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- HTTP -----------------------------------------------------------------
    def serve(self, handler: _Handler, method: str) -> None:
        """Answer one request on ``handler``: log, quota, fault hooks, route, write."""
        authorization = handler.headers.get("Authorization")
        target = handler.path
        with self._lock:
            self._log.append((method, target, authorization))
        path, _, query = target.partition("?")
        request = HubRequest(
            method=method,
            target=target,
            path=path,
            query=parse_qsl(query, keep_blank_values=True),
            authorization=authorization,
            request_id=f"Root=1-{int(time.time()):08x}-{next(self._request_ids):024x}",
        )
        response = self.answer(request)
        if response.delay > 0 and self._stopping.wait(response.delay):
            handler.close_connection = True  # stopping: nobody waits for it
            return
        if response.reset:
            handler.close_connection = True
            handler.server.reset_on_close(handler.connection)
            return
        self.stats.incr(f"status.{response.status}")
        self._write(handler, request, response)

    def answer(self, request: HubRequest) -> HubResponse:
        """The response to ``request`` after quota and fault hooks, not yet written."""
        bucket = bucket_of(request.path)
        stats = self.stats
        stats.incr(f"requests.{bucket}")
        ticket = self._limiter.take(bucket)
        if ticket is not None and not ticket.granted:
            stats.incr(f"429.{bucket}.quota")
            response = RateLimiter.exceeded(ticket)
        else:
            faults = self.faults
            early = faults.before(self, request) if faults is not None else None
            if early is not None:
                response = early
            else:
                try:
                    response = self.route(request)
                except Exception:  # noqa: BLE001 - a route bug must still answer, as a 500
                    traceback.print_exc()
                    response = json_error(500, "Internal Error")
            if faults is not None:
                response = faults.after(self, request, response)
            # The Hub counts a request when it arrives, whatever happens to it
            # after; refunding refusals is a switch for tests that want it.
            if ticket is not None and response.rejected and self.refund_failures:
                self._limiter.refund(ticket)
            if response.status == 429 and not response.reset:
                stats.incr(f"429.{bucket}.fault")
        if ticket is not None:
            # The window's real state replaces whatever a hook put there.
            response.headers = [
                (k, v)
                for k, v in response.headers
                if k.lower() not in ("ratelimit", "ratelimit-policy")
            ]
            response.headers.extend(ticket.headers())
        if request.path == "/api/models" and self.page_delay > 0:
            response.delay += self.page_delay
        if self.latency is not None:
            # counted on arrival, answered later: the reading is stale on receipt,
            # and with a spread of delays answers overtake each other
            response.delay += self.latency.draw()
        return response

    def _write(
        self,
        handler: BaseHTTPRequestHandler,
        request: HubRequest,
        response: HubResponse,
    ) -> None:
        body = response.body
        try:
            reason = HTTPStatus(response.status).phrase
        except ValueError:
            reason = ""
        lines = [
            f"HTTP/1.1 {response.status} {reason}",
            f"Content-Type: {response.content_type}",
            f"Content-Length: {len(body)}",
            f"X-Request-Id: {request.request_id}",
            *(f"{k}: {v}" for k, v in response.headers),
        ]
        if response.close:
            lines.append("Connection: close")
            handler.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if request.method == "HEAD":
            handler.wfile.write(head)
        elif response.send is not None:
            # A body cut short: the full Content-Length, part of the bytes,
            # then an ordinary close, as when a server or proxy dies mid-body.
            handler.wfile.write(head + body[: response.send])
            handler.close_connection = True
        elif len(body) < 65536:
            handler.wfile.write(head + body)
        else:
            # Two writes rather than copying a multi-MB page once more.
            handler.wfile.write(head)
            handler.wfile.write(body)

    def route(self, request: HubRequest) -> HubResponse:
        path = request.path
        if path == "/robots.txt":
            return HubResponse(200, ROBOTS, TEXT_TYPE)
        if activity.serves(path):  # before the repo routes: /api/{type}s/{id}/...
            return activity.answer(self, request)
        if path == "/api/models":
            return self.list_models(request)
        if path.startswith("/api/models/"):
            return self.model_info(request, path[len("/api/models/") :])
        for collection in (self.datasets, self.spaces):
            if collection.serves(path):
                return collection.answer(request)
        if "/resolve/" in path:
            return self.cards.answer(request)
        if path.startswith("/api/papers/"):
            return self.papers.answer(request)
        if path == "/api/tasks":
            return answer_tasks(self)
        return json_error(404, "Not found")

    # -- GET /api/models ------------------------------------------------------
    def list_models(self, request: HubRequest) -> HubResponse:
        try:
            query, view, limit, start = self._listing_params(request)
        except BadRequest as exc:
            return json_error(400, str(exc))
        order = self._matching(query)
        body = self._page(order[start : start + limit], view)
        headers = []
        if start + limit < len(order):
            headers.append(
                ("Link", f'<{self._next_url(request, start + limit)}>; rel="next"')
            )
        return HubResponse(200, body, headers=headers)

    def _listing_params(self, request: HubRequest) -> tuple[_Query, _View, int, int]:
        expand = request.values("expand", "expand[]")
        full = _truthy(request.last("full"))
        card_data = _truthy(request.last("cardData"))
        config = _truthy(request.last("config"))
        if expand and (full or card_data or config):
            raise BadRequest("expand cannot be combined with full, cardData or config")
        for value in expand:
            if value in DETAIL_ONLY_KEYS:
                raise BadRequest(
                    f'"expand" value {value!r} is only available on /api/models/{{repo_id}}'
                )
            if value not in _LIST_EXPAND_SET:
                raise BadRequest(
                    f'"expand" must be one of {", ".join(LIST_EXPAND)}; got {value!r}'
                )
        if expand:
            wanted = set(expand)
            view = _View(("_id", "id", *(k for k in LIST_EXPAND if k in wanted)))
        elif full:
            # config is not part of full "due to its size" (huggingface_hub).
            exclude = DETAIL_ONLY_KEYS if config else DETAIL_ONLY_KEYS | {"config"}
            view = _View(None, frozenset(exclude))
        elif card_data or config:
            extra = ("cardData",) * card_data + ("config",) * config
            view = _View((*DEFAULT_LIST_KEYS, *extra))
        else:
            view = _DEFAULT_VIEW

        raw_limit = request.last("limit")
        limit = MAX_LIMIT
        if raw_limit is not None:
            try:
                limit = int(raw_limit)
            except ValueError:
                raise BadRequest(
                    f'"limit" must be an integer, got {raw_limit!r}'
                ) from None
            if limit < 1:
                raise BadRequest(f'"limit" must be positive, got {limit}')
            limit = min(limit, MAX_LIMIT)

        sort = request.last("sort")
        if sort is not None and sort not in SORTS:
            raise BadRequest(f'"sort" must be one of {", ".join(sorted(SORTS))}')
        gated_value = request.last("gated")
        gated = None if gated_value is None else _truthy(gated_value)
        search = request.last("search")
        cursor = request.last("cursor")
        query = _Query(
            sort=sort,
            search=search.lower() if search else None,
            author=request.last("author") or None,
            filters=tuple(sorted(set(request.values("filter")))),
            pipeline_tag=request.last("pipeline_tag") or None,
            gated=gated,
            inference=request.last("inference") or None,
        )
        start = _decode_cursor(cursor) if cursor else 0
        return query, view, limit, start

    def _order(self, sort: str | None) -> list[int]:
        if sort is None:
            return self._listed
        with self._lock:
            order = self._orders.get(sort)
        if order is None:
            recs = self.records
            order = sorted(
                self._listed,
                key=lambda i: _sort_key(sort, recs[i]),
                reverse=sort != "id",  # the Hub sorts descending only
            )
            with self._lock:
                self._orders[sort] = order
        return order

    def _matching(self, query: _Query) -> list[int]:
        if query.selects_all():
            return self._order(query.sort)
        with self._lock:
            found = self._matching_cache.get(query)
        if found is None:
            recs = self.records
            found = [i for i in self._order(query.sort) if _matches(recs[i], query)]
            with self._lock:
                if len(self._matching_cache) >= _MAX_CACHED_QUERIES:
                    self._matching_cache.clear()
                self._matching_cache[query] = found
        return found

    def _items(self, indices: list[int], view: _View) -> list[tuple[bytes, ...]]:
        with self._lock:
            cache = self._views.get(view)
            if cache is None and len(self._views) < _MAX_CACHED_VIEWS:
                cache = self._views[view] = [None] * len(self.records)
            room = self.cache_bytes - self._cached_bytes
        recs = self.records
        fragments = self._serialiser.fragments
        items = []
        added = 0
        for i in indices:
            item = cache[i] if cache is not None else None
            if item is None:
                item, own = fragments(recs[i], view)
                own += _ITEM_OVERHEAD
                if cache is not None and added + own <= room:
                    cache[i] = item
                    added += own
            items.append(item)
        if added:
            with self._lock:
                self._cached_bytes += added
        return items

    def _page(self, indices: list[int], view: _View) -> bytes:
        parts = [b"["]
        for item in self._items(indices, view):
            parts.extend(item)
            parts.append(b",")
        if len(parts) > 1:
            parts[-1] = b"]"
        else:
            parts.append(b"]")
        return b"".join(parts)

    def _next_url(self, request: HubRequest, position: int) -> str:
        pairs = [(k, v) for k, v in request.query if k != "cursor"]
        pairs.append(("cursor", _encode_cursor(position)))
        return f"{self.url}{request.path}?{urlencode(pairs)}"

    # -- GET /api/models/{repo_id}[/revision/{rev}] ---------------------------
    def model_info(self, request: HubRequest, rest: str) -> HubResponse:
        parts = rest.split("/")
        revision: str | None = None
        if len(parts) > 2 and parts[1] == "revision":
            parts, revision = parts[:1], unquote("/".join(parts[2:]))
        elif len(parts) > 3 and parts[2] == "revision":
            parts, revision = parts[:2], unquote("/".join(parts[3:]))
        if len(parts) > 2 or not all(parts):
            return json_error(404, "Not found")
        repo_id = unquote("/".join(parts))

        renamed = self._renames.get(repo_id)
        if renamed is not None:
            return self._redirect(request, repo_id, renamed, revision)

        expand = request.values("expand", "expand[]")
        for value in expand:
            if value not in _DETAIL_EXPAND_SET:
                return json_error(
                    400,
                    f'"expand" must be one of {", ".join(DETAIL_EXPAND)}; got {value!r}',
                )

        index = self._by_id.get(repo_id)
        rec = self.records[index] if index is not None else None
        if rec is None or (
            rec.get("private") is True and self._token(request) != self.owner_token
        ):
            return self.not_found(request)
        if rec.get("disabled") is True:
            return json_error(403, "Access to this resource is disabled.", header=True)
        if revision is not None and not (
            revision in ("main", rec.get("sha")) or revision.startswith("refs/")
        ):
            return json_error(
                404, f"Invalid rev id: {revision}", code="RevisionNotFound", header=True
            )

        if expand:
            wanted = set(expand)
            keys = ("_id", "id", *(k for k in DETAIL_EXPAND if k in wanted))
            item = {k: rec[k] for k in keys if k in rec}
        else:
            item = {k: v for k, v in rec.items() if k not in EXPAND_ONLY_KEYS}
        return HubResponse(200, orjson.dumps(item))

    def _redirect(
        self, request: HubRequest, legacy: str, current: str, revision: str | None
    ) -> HubResponse:
        location = f"/api/models/{current}"
        plain = location
        if revision is not None:
            location += f"/revision/{quote(revision, safe='')}"
        query = request.target.partition("?")[2]
        if query:
            location += f"?{query}"
        if location == plain:
            body = self._redirect_bodies[legacy]
        else:
            body = f"Temporary Redirect. Redirecting to {location}".encode()
        return HubResponse(307, body, TEXT_TYPE, [("Location", location)])

    @staticmethod
    def _token(request: HubRequest) -> str | None:
        auth = request.authorization
        if auth is None:
            return None
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" else auth

    def not_found(self, request: HubRequest) -> HubResponse:
        # The Hub hides private repos: anonymous callers cannot tell them
        # from missing ones, and get a misleading 401 for both.
        if request.authorization is None:
            return json_error(401, "Invalid username or password.", header=True)
        return json_error(404, "Repository not found", code="RepoNotFound", header=True)
