"""Loopback leaderboards built from the real rows in tests/leaderboard_data.

One threaded ``http.server`` serves every family under its own prefix:

- ``/react/``: a React-style page whose table is fed by one JSON request
  (``api/leaderboard/formatted``, the Open LLM Leaderboard's nested shape, from
  the 2024-12-12 rows);
- ``/gradio/``: a Gradio page with ``window.gradio_config`` holding the table
  (the 2024-10-09 v2 rows, exact headers) and a virtualised table of ~15 rows
  beside Gradio's hidden measuring table;
- ``/lmarena/``: a Gradio page whose config holds no data: the page fills its
  table from the app endpoint ``/gradio_api/call/update_leaderboard_and_plots``;
- ``/never/``: a page that never renders a table;
- ``/rows``: a dataset viewer ``/rows`` (offset paging, at most 100 rows), the
  ``open-llm-leaderboard/contents`` columns synthesised from the same
  2024-12-12 rows the React page serves.

``scale`` repeats the rows (with distinct ids) for the benchmark.
"""

from __future__ import annotations

import csv
import json
import re
import threading
import uuid
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

DATA = Path(__file__).parent / "leaderboard_data"
PAGES = Path(__file__).parent / "leaderboard_pages"
REACT_CSV = DATA / "olb_v2_api_formatted_flattened_2024-12-12.csv"
GRADIO_CSV = DATA / "olb_v2_gradio_table_2024-10-09.csv"
LMARENA_CSV = DATA / "lmarena_gradio_table_2024-10-17.csv"
CONTENTS = "open-llm-leaderboard/contents"
LMARENA_API = "update_leaderboard_and_plots"

_EVALS = ("ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro")
_EVAL_HEADERS = {
    "ifeval": "IFEval",
    "bbh": "BBH",
    "math": "MATH Lvl 5",
    "gpqa": "GPQA",
    "musr": "MUSR",
    "mmlu_pro": "MMLU-PRO",
}
# the labels the table and the dataset use for the React API's type slugs
TYPE_LABELS = {
    "pretrained": "🟢 pretrained",
    "continuouslypretrained": "🟩 continuously pretrained",
    "fine-tunedondomain-specificdatasets": "🔶 fine-tuned on domain-specific datasets",
    "chatmodels": "💬 chat models (RLHF, DPO, IFT, ...)",
    "basemergesandmoerges": "🤝 base merges and moerges",
    "multimodal": "🌸 multimodal",
}
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def typed(text: str) -> Any:
    """A CSV cell as the app's JSON had it (pandas types; R wrote TRUE/NA)."""
    if text in ("", "NA"):
        return None
    if text in ("TRUE", "True", "true"):
        return True
    if text in ("FALSE", "False", "false"):
        return False
    if _NUMBER.fullmatch(text):
        number = float(text)
        return int(number) if re.fullmatch(r"[+-]?\d+", text) else number
    return text


def read_csv(path: Path) -> tuple[list[str], list[list[Any]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        headers = next(reader)
        return headers, [[typed(c) for c in row] for row in reader]


def _copy_suffix(copy: int) -> str:
    return "" if copy == 0 else f"-copy{copy}"


def scaled(rows: list[dict[str, Any]], scale: int, ids: tuple[str, ...]) -> list[Any]:
    """``rows`` repeated ``scale`` times, each copy's id fields made distinct."""
    out = []
    for copy in range(scale):
        for row in rows:
            if copy:
                row = dict(row)
                for name in ids:
                    if isinstance(row.get(name), str):
                        row[name] += _copy_suffix(copy)
            out.append(row)
    return out


# --- the React family and the dataset built from the same rows -------------------
def react_rows(scale: int = 1) -> list[dict[str, Any]]:
    """The flattened 2024-12-12 rows as flat dicts (their CSV columns)."""
    headers, data = read_csv(REACT_CSV)
    rows = [dict(zip(headers, r, strict=True)) for r in data]
    return scaled(rows, scale, ("id", "model_name"))


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    """A flattened row back in the API's nested shape."""
    out: dict[str, Any] = {"id": flat["id"], "model": {}, "evaluations": {}}
    out |= {"features": {}, "metadata": {}}
    for key, value in flat.items():
        if key == "id":
            continue
        group, rest = key.split("_", 1)
        if group == "evaluations":
            name = next(e for e in _EVALS if rest.startswith(e + "_"))
            out["evaluations"].setdefault(name, {})[rest[len(name) + 1 :]] = value
        else:
            out[group][rest] = value
    return out


def model_html(repo_id: str, details: str) -> str:
    style = "color: var(--link-text-color); text-decoration: underline;"
    return (
        f'<a target="_blank" href="https://huggingface.co/{repo_id}" style="{style}">'
        f"{repo_id}</a>  "
        f'<a target="_blank" href="https://huggingface.co/datasets/open-llm-leaderboard/'
        f'{details}" style="{style}">📑</a>'
    )


def contents_row(flat: dict[str, Any]) -> dict[str, Any]:
    """What ``open-llm-leaderboard/contents`` holds for a React API row: the
    backend builds the API from it (``transform_data``), so this inverts that."""
    name = flat["model_name"]
    label = TYPE_LABELS.get(flat["model_type"], flat["model_type"])
    row: dict[str, Any] = {
        "eval_name": flat["id"],
        "Precision": flat["model_precision"],
        "Type": label,
        "T": label.split()[0],
        "Weight type": flat["model_weight_type"],
        "Architecture": flat["model_architecture"],
        "Model": model_html(name, name.replace("/", "__") + "-details"),
        "fullname": name,
        "Model sha": flat["model_sha"],
        "Average ⬆️": flat["model_average_score"],
        "Hub License": flat["metadata_hub_license"],
        "Hub ❤️": flat["metadata_hub_hearts"],
        "#Params (B)": flat["metadata_params_billions"],
        "Available on the hub": flat["features_is_not_available_on_hub"],
        "MoE": flat["features_is_moe"],
        "Flagged": flat["features_is_flagged"],
        "Chat Template": flat["model_has_chat_template"],
        "CO₂ cost (kg)": flat["metadata_co2_cost"],
    }
    for key in _EVALS:
        header = _EVAL_HEADERS[key]
        row[f"{header} Raw"] = flat[f"evaluations_{key}_value"]
        row[header] = flat[f"evaluations_{key}_normalized_score"]
    row |= {
        "Merged": flat["features_is_merged"],
        "Official Providers": flat["features_is_highlighted_by_maintainer"],
        "Upload To Hub Date": flat["metadata_upload_date"],
        "Submission Date": flat["metadata_submission_date"],
        "Generation": flat["metadata_generation"],
        "Base Model": flat["metadata_base_model"],
    }
    return row


# --- the Gradio families --------------------------------------------------------
def gradio_table(scale: int = 1) -> tuple[list[str], list[list[Any]]]:
    headers, data = read_csv(GRADIO_CSV)
    rows = [dict(zip(headers, r, strict=True)) for r in data]
    out = []
    for copy in range(scale):
        for row in rows:
            if copy:
                repo = row["fullname"] + _copy_suffix(copy)
                details = repo.replace("/", "__") + "-details"
                row = row | {"fullname": repo, "Model": model_html(repo, details)}
            out.append([row[h] for h in headers])
    return headers, out


def lmarena_table() -> tuple[list[str], list[list[Any]]]:
    return read_csv(LMARENA_CSV)


def _component(cid: int, kind: str, value: Any, **props: Any) -> dict[str, Any]:
    return {"id": cid, "type": kind, "props": {"value": value, **props}}


def gradio_config(
    root: str, headers: list[str], data: list[list[Any]]
) -> dict[str, Any]:
    """A Gradio 4 config: the leaderboard is not the first table, and a
    filtered copy of it (first rows only) comes before the full one."""
    return {
        "version": "4.44.1",
        "mode": "blocks",
        "root": root,
        "components": [
            _component(1, "markdown", "# 🏆 Open LLM Leaderboard"),
            _component(
                2,
                "dataframe",
                {"headers": ["Task", "Metric"], "data": [["IFEval", "acc"]] * 5},
            ),
            _component(
                3,
                "dataframe",
                {"headers": headers, "data": data[:50]},
                elem_id="leaderboard-table",
            ),
            _component(
                4, "dataframe", {"headers": headers, "data": data}, visible=False
            ),
        ],
        "dependencies": [
            {"id": 0, "targets": [[5, "submit"]], "inputs": [4], "outputs": [3]}
        ],
    }


def lmarena_config(root: str, headers: list[str]) -> dict[str, Any]:
    return {
        "version": "4.44.1",
        "mode": "blocks",
        "root": root,
        "api_prefix": "/gradio_api",
        "components": [
            _component(1, "markdown", "# 🏆 LMSYS Chatbot Arena Leaderboard"),
            _component(2, "dropdown", "Overall", choices=["Overall", "Coding"]),
            _component(3, "checkboxgroup", [], choices=["Style Control"]),
            _component(4, "plot", None),
            _component(
                5,
                "dataframe",
                {"headers": headers, "data": []},
                elem_id="arena_leaderboard_dataframe",
            ),
        ],
        "dependencies": [
            {
                "id": 0,
                "targets": [[2, "change"]],
                "inputs": [2, 3],
                "outputs": [4],
                "api_name": "update_plots",
            },
            {
                "id": 1,
                "targets": [[0, "load"]],
                "inputs": [2, 3],
                "outputs": [4, 5],
                "api_name": LMARENA_API,
            },
        ],
    }


# --- the server -----------------------------------------------------------------
class LeaderboardSite:
    """``with LeaderboardSite() as site: site.url("/gradio/")``"""

    def __init__(self, scale: int = 1) -> None:
        self.scale = scale
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._events: dict[str, list[Any]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # the data, built once
    @cached_property
    def react(self) -> list[dict[str, Any]]:
        return react_rows(self.scale)

    @cached_property
    def react_body(self) -> bytes:
        return json.dumps([nested(r) for r in self.react]).encode()

    @cached_property
    def contents(self) -> list[dict[str, Any]]:
        return [contents_row(r) for r in self.react]

    @cached_property
    def gradio(self) -> tuple[list[str], list[list[Any]]]:
        return gradio_table(self.scale)

    @cached_property
    def lmarena(self) -> tuple[list[str], list[list[Any]]]:
        return lmarena_table()

    def rows_answer(self, query: dict[str, list[str]]) -> tuple[int, Any]:
        if query.get("dataset") != [CONTENTS]:
            return 404, {"error": "The dataset does not exist."}
        if query.get("config") != ["default"] or query.get("split") != ["train"]:
            return 404, {"error": "The config or the split does not exist."}
        offset = int(query.get("offset", ["0"])[0])
        length = int(query.get("length", ["100"])[0])
        if length > 100:
            return 422, {"error": "Parameter 'length' must not be greater than 100"}
        rows = self.contents
        first = rows[0]
        features = [
            {"feature_idx": i, "name": name, "type": {"_type": "Value"}}
            for i, name in enumerate(first)
        ]
        page = [
            {"row_idx": i, "row": rows[i], "truncated_cells": []}
            for i in range(offset, min(offset + length, len(rows)))
        ]
        return 200, {
            "features": features,
            "rows": page,
            "num_rows_total": len(rows),
            "num_rows_per_page": 100,
            "partial": False,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, payload: Any) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json")

            def _page(self, name: str, config: Any = None) -> None:
                html = (PAGES / name).read_text(encoding="utf-8")
                script = ""
                if config is not None:
                    # as Gradio inlines it (</ escaped so no cell ends the script)
                    text = json.dumps(config).replace("</", "<\\/")
                    script = f"<script>window.gradio_config = {text};</script>"
                body = html.replace("<!--CONFIG-->", script).encode()
                self._send(200, body, "text/html; charset=utf-8")

            def _log(self) -> tuple[str, dict[str, list[str]]]:
                parts = urlsplit(self.path)
                with site._lock:
                    site.requests.append((self.command, self.path, dict(self.headers)))
                return parts.path, parse_qs(parts.query)

            def do_GET(self) -> None:
                path, query = self._log()
                headers, data = site.gradio
                if path.startswith("/static/"):
                    name = path.removeprefix("/static/")
                    file = PAGES / name
                    if "/" in name or not file.is_file():
                        self._send(404, b"not found", "text/plain")
                        return
                    body = file.read_bytes()
                    self._send(200, body, "text/javascript; charset=utf-8")
                elif path == "/react/":
                    self._page("react.html")
                elif path == "/react/api/leaderboard/formatted":
                    self._send(200, site.react_body, "application/json")
                elif path == "/gradio/":
                    root = site.url("/gradio")
                    self._page("gradio.html", gradio_config(root, headers, data))
                elif path == "/lmarena/":
                    root = site.url("/lmarena")
                    lm_headers = site.lmarena[0]
                    self._page("gradio.html", lmarena_config(root, lm_headers))
                elif path.startswith(f"/lmarena/gradio_api/call/{LMARENA_API}/"):
                    event = path.rsplit("/", 1)[1]
                    with site._lock:
                        outputs = site._events.pop(event, None)
                    if outputs is None:
                        self._send(404, b"no such event", "text/plain")
                        return
                    text = f"event: complete\ndata: {json.dumps(outputs)}\n\n"
                    self._send(200, text.encode(), "text/event-stream")
                elif path == "/never/":
                    self._page("never.html")
                elif path == "/rows":
                    self._json(*site.rows_answer(query))
                else:
                    self._send(404, b"not found", "text/plain")

            def do_POST(self) -> None:
                path, _ = self._log()
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                if path == f"/lmarena/gradio_api/call/{LMARENA_API}":
                    # the inputs the page sends: the category and filter values
                    if payload.get("data") != ["Overall", []]:
                        self._json(422, {"error": f"bad inputs {payload!r}"})
                        return
                    headers, data = site.lmarena
                    event = uuid.uuid4().hex
                    plot = {"type": "plotly", "plot": "{}"}
                    table = {
                        "__type__": "update",
                        "value": {"headers": headers, "data": data},
                    }
                    with site._lock:
                        site._events[event] = [plot, table]
                    self._json(200, {"event_id": event})
                else:
                    self._send(404, b"not found", "text/plain")

        return Handler
