"""Reading a leaderboard out of a live Playwright page.

The strategies, in the order tried: the page's own JSON requests, the Gradio
config (or the app endpoint that fills its table), then the rendered table,
scrolled until no new row appears. What comes back is turned into rows by
``hfcrawl.parsers.leaderboard``; only this spider's modules import Playwright.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hfcrawl.items import LeaderboardRow
from hfcrawl.leaderboards import STRATEGIES, Column, Preset
from hfcrawl.parsers.leaderboard import (
    GradioTable,
    gradio_call,
    json_records,
    leaderboard_row,
    output_records,
    pick_table,
    sse_complete,
    table_records,
)

if TYPE_CHECKING:
    from playwright.async_api import Page, Request, Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

DEBIAN_CHROMIUM = "/usr/bin/chromium"
BLOCKED_RESOURCES = frozenset({"image", "font", "media"})
# a closed network refuses Chromium's background connections, many at a time
CHROMIUM_ARGS = (
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


def should_abort_request(request: Request) -> bool:
    """Images, fonts and media are never needed; CSS and scripts are (the
    virtual tables measure rows from the layout)."""
    return request.resource_type in BLOCKED_RESOURCES


def chromium_path(settings: BaseSettings) -> str | None:
    """``HFCRAWL_CHROMIUM`` (setting, else environment), else Debian's
    Chromium when installed; None lets Playwright use its own browser."""
    path = settings.get("HFCRAWL_CHROMIUM") or os.environ.get("HFCRAWL_CHROMIUM")
    if path:
        return str(path)
    return DEBIAN_CHROMIUM if Path(DEBIAN_CHROMIUM).exists() else None


def launch_options(settings: BaseSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"headless": True, "args": list(CHROMIUM_ARGS)}
    path = chromium_path(settings)
    if path:
        options["executable_path"] = path
    return options


@dataclass
class Capture:
    """The responses a page received, kept from before its navigation."""

    responses: list[Response] = field(default_factory=list)

    def add(self, response: Response) -> None:
        if response.request.resource_type in ("xhr", "fetch"):
            self.responses.append(response)

    def matching(self, paths: Sequence[str]) -> list[Response]:
        if not paths:
            return [r for r in self.responses if _is_json(r)]
        return [
            r
            for r in self.responses
            if urlsplit(r.url).path.rstrip("/").endswith(tuple(paths))
        ]


def _is_json(response: Response) -> bool:
    return "json" in (response.headers.get("content-type") or "")


@dataclass
class BoardResult:
    rows: list[LeaderboardRow]
    strategy: str | None
    problems: list[str]


_SHOWN = """(selector) => [...document.querySelectorAll(selector)]
  .some(el => el.getClientRects().length && getComputedStyle(el).visibility !== "hidden")"""
_READY = f"(selector) => !!window.gradio_config || ({_SHOWN})(selector)"

_CONFIG = """async () => {
  if (window.gradio_config) return window.gradio_config;
  try {
    const r = await fetch(new URL("config", location.href.replace(/\\/?$/, "/")));
    return r.ok ? await r.json() : null;
  } catch (e) { return null; }
}"""

# How the page itself asks for data: the /call API of Gradio 4.2x and later
# (POST, then an event stream), else the older /run/predict.
_CALL = """async ({root, prefix, apiName, fnIndex, data}) => {
  const base = (root || (location.origin + location.pathname)).replace(/\\/$/, "");
  const json = {"Content-Type": "application/json"};
  if (apiName) {
    const r = await fetch(`${base}${prefix}/call/${apiName}`,
                          {method: "POST", headers: json, body: JSON.stringify({data})});
    if (r.ok) {
      const {event_id} = await r.json();
      const s = await fetch(`${base}${prefix}/call/${apiName}/${event_id}`);
      return {kind: "sse", status: s.status, text: await s.text()};
    }
  }
  const r = await fetch(`${base}${prefix}/run/predict`,
                        {method: "POST", headers: json,
                         body: JSON.stringify({data, fn_index: fnIndex})});
  return {kind: "json", status: r.status, text: await r.text()};
}"""

# The real table (inside svelte-virtual-table-viewport for Gradio), never the
# hidden table Gradio measures column widths with; scrolled a screen at a time,
# rows collected by their cells until a scroll at the end adds none.
_SCROLL = """async ({wanted, settleMs, maxSteps}) => {
  const shown = (el) => {
    const s = getComputedStyle(el);
    if (s.visibility === "hidden" || s.display === "none") return false;
    if (el.closest('[aria-hidden="true"]')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  // a header's own text: sort buttons and icons left out
  const skip = (el) => el.closest('svg, button, [aria-hidden="true"], [class*="sort"], [class*="icon"]');
  const label = (th) => {
    const walk = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const icon = skip(n.parentElement);
      if (!icon || icon === th || !th.contains(icon)) text += n.nodeValue;
    }
    return text.replace(/\\s+/g, " ").trim();
  };
  const heads = (t) => [...t.querySelectorAll("thead th")].map(label);
  let tables = [...document.querySelectorAll("table")]
    .filter(t => t.querySelector("thead th") && shown(t));
  if (wanted.length) tables = tables.filter(t => wanted.every(w => heads(t).includes(w)));
  const virtual = tables.filter(t => t.closest("svelte-virtual-table-viewport"));
  const table = (virtual.length ? virtual : tables)[0];
  if (!table) return null;
  const headers = heads(table);
  let scroller = document.scrollingElement;
  for (let el = table; el; el = el.parentElement) {
    const s = getComputedStyle(el);
    if (/(auto|scroll)/.test(s.overflowY) && el.scrollHeight > el.clientHeight + 1) {
      scroller = el; break;
    }
  }
  const cell = (td) => td.querySelector("a") ? td.innerHTML : td.textContent;
  const seen = new Map();
  const collect = () => {
    let added = 0;
    for (const tr of table.querySelectorAll("tbody tr")) {
      const tds = [...tr.children].filter(c => c.tagName === "TD");
      if (tds.length !== headers.length) continue;  // padding rows
      const cells = tds.map(cell);
      const key = JSON.stringify(cells);
      if (!seen.has(key)) { seen.set(key, cells); added++; }
    }
    return added;
  };
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  // the table's next change, or two frames when nothing changes
  const changed = () => new Promise(resolve => {
    let done = false;
    const finish = () => { if (!done) { done = true; watch.disconnect(); resolve(); } };
    const watch = new MutationObserver(() => Promise.resolve().then(finish));
    watch.observe(table, {childList: true, subtree: true, characterData: true});
    frames().then(finish);
  });
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  scroller.scrollTop = 0;
  await frames();
  collect();
  let steps = 0;
  while (steps < maxSteps) {
    const before = scroller.scrollTop;
    const wait = changed();
    scroller.scrollTop = before + Math.max(1, Math.floor(scroller.clientHeight * 0.8));
    await wait;
    let added = collect();
    if (!added) { await sleep(settleMs); added = collect(); }
    steps++;
    const atEnd = scroller.scrollTop === before
      || scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 1;
    if (atEnd && !added) break;
  }
  return {headers, rows: [...seen.values()], steps};
}"""


@dataclass(frozen=True)
class Board:
    """Everything needed to read one board from a page."""

    preset: Preset
    strategies: tuple[str, ...]
    timeout: float  # seconds the table has to appear
    now: datetime
    hub_hosts: frozenset[str]
    ready_selector: str = "table tbody tr"
    settle_ms: int = 150
    max_steps: int = 5000

    def rows(
        self,
        records: Iterable[Mapping[str, Any]],
        columns: Mapping[str, Column],
        strategy: str,
        url: str,
    ) -> list[LeaderboardRow]:
        return [
            leaderboard_row(
                r,
                self.preset,
                columns,
                strategy=strategy,
                source_url=url,
                now=self.now,
                hub_hosts=self.hub_hosts,
            )
            for r in records
        ]


async def read_board(page: Page, capture: Capture, board: Board) -> BoardResult:
    """The board's rows by the first strategy that finds any."""
    problems: list[str] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + board.timeout
    preset = board.preset
    ready = await _wait_ready(page, capture, board, deadline)
    if not ready:
        problems.append(
            f"nothing rendered within {board.timeout:g} s: no table, no Gradio"
            " config, no JSON response"
        )
    for strategy in board.strategies:
        if strategy == "json":
            rows = await _from_json(capture, board, problems)
        elif strategy == "gradio":
            rows = await _from_gradio(page, board, problems)
        elif strategy == "dom":
            rows = await _from_dom(page, board, deadline, problems)
        else:  # pragma: no cover - arguments are checked
            raise ValueError(strategy)
        if rows:
            return BoardResult(rows, rows[0].strategy, problems)
    logger.error("leaderboard %s at %s: %s", preset.name, page.url, "; ".join(problems))
    return BoardResult([], None, problems)


async def _wait_ready(
    page: Page, capture: Capture, board: Board, deadline: float
) -> bool:
    loop = asyncio.get_running_loop()
    paths = board.preset.json_paths
    while True:
        if paths and capture.matching(paths):
            return True
        if await page.evaluate(_READY, board.ready_selector):
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.1)


async def _from_json(
    capture: Capture, board: Board, problems: list[str]
) -> list[LeaderboardRow]:
    best: tuple[list[dict[str, Any]], str] | None = None
    for response in capture.matching(board.preset.json_paths):
        try:
            payload = json.loads(await response.body())
        except Exception as exc:  # noqa: BLE001 - any unreadable body is skipped
            problems.append(f"json: {response.url}: {type(exc).__name__}: {exc}")
            continue
        records = json_records(payload)
        if records and (best is None or len(records) > len(best[0])):
            best = (records, response.url)
    if best is None:
        problems.append("json: no response held rows")
        return []
    return board.rows(best[0], board.preset.json_columns, "json", best[1])


async def _from_gradio(
    page: Page, board: Board, problems: list[str]
) -> list[LeaderboardRow]:
    config = await page.evaluate(_CONFIG)
    if not isinstance(config, Mapping):
        problems.append("gradio: no gradio_config and no /config")
        return []
    table = pick_table(config, board.preset.headers)
    if table is None:
        problems.append(
            f"gradio: no table with the headers {list(board.preset.headers)}"
        )
        return []
    if table.data:
        records = table_records(table.headers, table.data)
        return board.rows(records, board.preset.columns, "gradio_config", page.url)
    return await _from_gradio_api(page, board, config, table, problems)


async def _from_gradio_api(
    page: Page,
    board: Board,
    config: Mapping[str, Any],
    table: GradioTable,
    problems: list[str],
) -> list[LeaderboardRow]:
    call = gradio_call(config, table)
    if call is None:
        problems.append("gradio: the table holds no data and no event fills it")
        return []
    answer = await page.evaluate(
        _CALL,
        {
            "root": call.root,
            "prefix": call.api_prefix,
            "apiName": call.api_name,
            "fnIndex": call.fn_index,
            "data": call.inputs,
        },
    )
    text = answer.get("text") or ""
    try:
        if answer.get("kind") == "sse":
            outputs = sse_complete(text)
        else:
            outputs = (json.loads(text) or {}).get("data")
    except (ValueError, AttributeError) as exc:
        outputs = None
        problems.append(f"gradio: unreadable answer: {exc}")
    records = output_records(outputs or [], call.output_index)
    if not records:
        problems.append(
            f"gradio: {call.api_name or call.fn_index} answered {answer.get('status')}"
            f" without the table: {text[:200]!r}"
        )
        return []
    return board.rows(records, board.preset.columns, "gradio_api", page.url)


async def _from_dom(
    page: Page, board: Board, deadline: float, problems: list[str]
) -> list[LeaderboardRow]:
    loop = asyncio.get_running_loop()
    remaining = max(deadline - loop.time(), 0.1)
    try:
        await page.wait_for_function(
            _SHOWN, arg=board.ready_selector, timeout=remaining * 1000
        )
    except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError and kin
        problems.append(
            f"dom: the table did not render within {board.timeout:g} s"
            f" ({type(exc).__name__})"
        )
        return []
    found = await page.evaluate(
        _SCROLL,
        {
            "wanted": list(board.preset.headers),
            "settleMs": board.settle_ms,
            "maxSteps": board.max_steps,
        },
    )
    if not found or not found.get("rows"):
        problems.append("dom: no table with rows")
        return []
    records = table_records(found["headers"], found["rows"])
    return board.rows(records, board.preset.columns, "dom", page.url)


def strategies_for(preset: Preset, chosen: str | None) -> tuple[str, ...]:
    if chosen:
        return (chosen,)
    if preset.strategy:
        return (preset.strategy,)
    return STRATEGIES
