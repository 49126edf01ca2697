"""A loopback fake of arXiv's export API, ``GET /api/query?id_list=...``.

Behaviour follows hub-api.md §12 and the real bodies in ``data/arxiv_*.xml``
(lukasschwab/arxiv.py's recordings, 2026 format): a 200 Atom feed holding an
entry per known id (in no particular order: the fake answers newest-asked
first), none for an unknown well-formed id, and for a malformed id a 400 feed
whose one ``Error`` entry names it (``incorrect id format for abc``). The real
entries are served byte for byte; other ids are clones of them with the id
replaced. Which ids are "malformed": any that is not shaped like an arXiv id
(``abc``, as recorded; ``0000.0000`` is well formed and unknown, as recorded),
and the ids given in ``refuse``: an invented fault standing for whatever else
arXiv's own (unpublished) rules refuse.

A server of its own, on its own port, so that the crawl sees another host than
the Hub's (the token must never reach it). Every request is recorded with its
arrival and answer times, how many requests were in flight and how many
connections were open when it arrived: the tests read the pacing from there.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

DATA: Final = Path(__file__).with_name("data")
ATOM_TYPE: Final = "application/atom+xml; charset=utf-8"
REAL_FILES: Final = (
    "arxiv_query_id_list_1707.08567.xml",
    "arxiv_query_id_list_old_style_astro-ph_0601001.xml",
    "arxiv_query_search_testing_start0_max10.xml",
)
_ENTRY: Final = re.compile(rb"  <entry>.*?</entry>\n", re.DOTALL)
_ENTRY_ID: Final = re.compile(rb"<id>http://arxiv\.org/abs/(.+?)v(\d+)</id>")
_NEW: Final = re.compile(r"\d{4}\.\d{4,5}")
_OLD: Final = re.compile(r"[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7}")
_VERSION: Final = re.compile(r"(.+?)v(\d+)")


@dataclass(slots=True)
class Hit:
    """One request as the fake saw it (times are ``time.monotonic()``)."""

    arrived: float
    answered: float | None
    in_flight: int  # requests being answered when it arrived, itself included
    connections: int  # connections open when it arrived
    client: tuple[str, int]
    target: str
    authorization: str | None
    status: int | None = None


def _real_entries() -> dict[str, tuple[int, bytes]]:
    entries: dict[str, tuple[int, bytes]] = {}
    for name in REAL_FILES:
        for found in _ENTRY.finditer((DATA / name).read_bytes()):
            text = found.group(0)
            head = _ENTRY_ID.search(text)
            assert head is not None, name
            entries[head.group(1).decode()] = (int(head.group(2)), text)
    return entries


def _feed_head() -> bytes:
    body = (DATA / REAL_FILES[0]).read_bytes()
    return body[: body.index(b"  <entry>")]


def well_formed(arxiv_id: str) -> bool:
    """The shape of an arXiv id, with or without ``vN``."""
    found = _VERSION.fullmatch(arxiv_id)
    base = found.group(1) if found else arxiv_id
    return bool(_NEW.fullmatch(base) or _OLD.fullmatch(base))


class FakeArxiv:
    """``FakeArxiv(ids=[...], n_papers=0).start()``, or use it as a context.

    Knows the real recorded papers, a clone for each of ``ids``, and
    ``n_papers`` more clones (``2601.00000``, ``2601.00001``, ...). ``refuse``:
    ids answered with a 400 as malformed, whatever their shape.
    ``name_bad_ids=False`` answers a 400 without naming the bad id (a fault:
    the client must then split the batch itself); ``latency`` holds every
    answer back that many seconds, so that overlapping requests would show.
    """

    def __init__(
        self,
        ids: list[str] | tuple[str, ...] = (),
        n_papers: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        refuse: frozenset[str] | set[str] = frozenset(),
        name_bad_ids: bool = True,
        latency: float = 0.0,
    ) -> None:
        self.host, self.port = host, port
        self.refuse = frozenset(refuse)
        self.name_bad_ids = name_bad_ids
        self.latency = latency
        self.papers = _real_entries()
        templates = list(self.papers.items())
        synthetic = [f"2601.{i:05d}" for i in range(n_papers)]
        for new_id, (old_id, (version, text)) in zip(
            [i for i in ids if i not in self.papers] + synthetic,
            itertools.cycle(templates),
            strict=False,
        ):
            clone = text.replace(
                f"/{old_id}v{version}".encode(), f"/{new_id}v{version}".encode()
            )
            self.papers[new_id] = (version, clone)
        self._head = _feed_head()
        self._lock = threading.Lock()
        self._hits: list[Hit] = []
        self._in_flight = 0
        self._connections = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> Self:
        if self._server is None:
            server = _Server((self.host, self.port), self)
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fakearxiv-{server.server_port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
            server.close_all()
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
            raise RuntimeError("the fake arXiv is not started")
        return f"http://{self.host}:{self._server.server_port}"

    @property
    def hits(self) -> list[Hit]:
        with self._lock:
            return list(self._hits)

    def clear_log(self) -> None:
        with self._lock:
            self._hits.clear()

    # -- connections (the server's hooks) ---------------------------------------
    def connection_opened(self) -> None:
        with self._lock:
            self._connections += 1

    def connection_closed(self) -> None:
        with self._lock:
            self._connections -= 1

    # -- HTTP -----------------------------------------------------------------
    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            self._in_flight += 1
            hit = Hit(
                arrived=time.monotonic(),
                answered=None,
                in_flight=self._in_flight,
                connections=self._connections,
                client=handler.client_address[:2],
                target=handler.path,
                authorization=handler.headers.get("Authorization"),
            )
            self._hits.append(hit)
        try:
            status, body = self.answer(handler.path)
            if self.latency:
                time.sleep(self.latency)
            handler.send_response(status)
            handler.send_header("Content-Type", ATOM_TYPE)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
            hit.status = status
        finally:
            with self._lock:
                hit.answered = time.monotonic()
                self._in_flight -= 1

    def answer(self, target: str) -> tuple[int, bytes]:
        parts = urlsplit(target)
        if parts.path != "/api/query":
            return 404, b"not found"
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        ids = [i.strip() for i in query.get("id_list", "").split(",") if i.strip()]
        for arxiv_id in ids:
            if not well_formed(arxiv_id) or arxiv_id in self.refuse:
                return 400, self._error(arxiv_id)
        limit = int(query.get("max_results", "10") or 10)
        entries = []
        for arxiv_id in reversed(ids):  # arXiv's order is not the request's
            entry = self._entry(arxiv_id)
            if entry is not None:
                entries.append(entry)
        return 200, self._feed(ids, entries[:limit])

    def _entry(self, asked: str) -> bytes | None:
        found = _VERSION.fullmatch(asked)
        base, version = (found.group(1), int(found.group(2))) if found else (asked, 0)
        known = self.papers.get(base)
        if known is None:
            return None
        latest, text = known
        if not version:
            return text
        if version > latest:
            return None
        return text.replace(f"/{base}v{latest}".encode(), f"/{base}v{version}".encode())

    def _feed(self, ids: list[str], entries: list[bytes]) -> bytes:
        head = self._head.decode()
        listed = escape(",".join(ids))
        head = re.sub(r'id_list=[^&<"]*', f"id_list={listed}", head)
        head = re.sub(
            r"<opensearch:totalResults>\d+<",
            f"<opensearch:totalResults>{len(entries)}<",
            head,
        )
        return head.encode() + b"".join(entries) + b"</feed>\n"

    def _error(self, arxiv_id: str) -> bytes:
        body = (DATA / "arxiv_query_id_list_abc_400_error.xml").read_text()
        if self.name_bad_ids:
            return (
                body.replace("_for_abc", f"_for_{escape(arxiv_id)}")
                .replace("for abc", f"for {escape(arxiv_id)}")
                .encode()
            )
        return (
            body.replace("incorrect_id_format_for_abc", "malformed_id_list")
            .replace("incorrect id format for abc", "malformed id list")
            .encode()
        )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeArxiv) -> None:
        self.fake = fake
        self.sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # no FQDN lookup (it can stall without DNS)
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = (
            str(self.server_address[0]),
            int(self.server_address[1]),
        )

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.sockets.add(request)
        self.fake.connection_opened()
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            known = request in self.sockets
            self.sockets.discard(request)
        if known:
            self.fake.connection_closed()
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self.sockets_lock:
            open_sockets = list(self.sockets)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up is routine


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        self.server.fake.serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is FakeArxiv.hits


def named_arxiv_ids(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """The arXiv ids the ``arxiv:`` tags of Hub records name, sorted."""
    return sorted(
        {
            t[len("arxiv:") :]
            for r in records
            for t in r.get("tags") or ()
            if isinstance(t, str) and t.startswith("arxiv:")
        }
    )
