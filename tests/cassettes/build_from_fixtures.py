"""Build the betamax cassettes in this folder from the recorded Hub fixtures.

One-off maintenance script. It is never run by the test suite, and the
tests never read the fixtures folder: they only read the cassettes this
script wrote and that are committed next to it.

Usage (from the repository root)::

    .venv/bin/python tests/cassettes/build_from_fixtures.py [FIXTURES_DIR]

``FIXTURES_DIR`` defaults to ``../shared/fixtures/hub`` relative to the
repository root. The script writes ``model_info.json``,
``model_info_transcribed.json``, ``errors.json`` and ``PROVENANCE.md``
next to itself. The output depends only on the fixture files, so running
it twice gives identical bytes.

For each interaction:

- request method and URI, response status and response headers come from
  the fixture's ``.meta.json`` sidecar (for the two transcribed bodies,
  which have no sidecar, from the table below and SOURCES.md);
- request headers are ``{}`` and the request body is empty: the sidecars
  did not keep request headers or bodies;
- the response body is the fixture file's text, byte for byte;
- ``recorded_at`` is the sidecar's ``Date`` header in betamax's format
  (``%Y-%m-%dT%H:%M:%S``, UTC), or the commit date from SOURCES.md when
  there are no headers.

The JSON is written the way betamax 0.9 writes it (``json.dumps`` with
default separators, same key order, no trailing newline), and every
cassette is loaded back with ``betamax.cassette.Cassette`` before the
script reports success.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_FIXTURES = REPO_ROOT / ".." / "shared" / "fixtures" / "hub"
BETAMAX_RECORDED_WITH = "betamax/0.9.0"
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Spec:
    """One interaction to build from one fixture file."""

    body_file: str
    # Only for fixtures without a .meta.json sidecar:
    method: str | None = None
    uri: str | None = None
    status: tuple[int, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    recorded_at: str | None = None
    note: str | None = None
    # Whether SOURCES.md says the body length equals Content-Length.
    length_matches: bool = True
    # Set Content-Length to the body's real length (sanitised bodies only).
    fix_content_length: bool = False


CASSETTES: dict[str, tuple[str, list[Spec]]] = {
    "model_info": (
        (
            "Raw `GET /api/models/{repo_id}` captures (huggingface_hub VCR"
            " cassettes), including three 307 redirects."
        ),
        [
            Spec("model_info_google-bert_bert-base-uncased.json"),
            Spec("model_info_bert-base-uncased_307_redirect.txt"),
            Spec(
                "model_info_t5-small_307_redirect.txt",
                note=(
                    "The redirect target `/api/models/google-t5/t5-small` was"
                    " not recorded, so a replayed crawl that follows this 307"
                    " ends in `IgnoreRequest` (`replay/unmatched`). The other"
                    " two 307 targets are in this cassette."
                ),
            ),
            Spec(
                "model_info_meta-llama_Meta-Llama-3.1-8B-Instruct_307_renamed_repo.txt"
            ),
            Spec("model_info_gated_meta-llama_Llama-3.1-8B-Instruct.json"),
            Spec("model_info_HuggingFaceH4_zephyr-7b-beta.json"),
            Spec("model_info_deepset_roberta-base-squad2.json"),
            Spec("model_info_CompVis_stable-diffusion-v1-4.json"),
            Spec("model_info_espnet_kan-bayashi_ljspeech_vits.json"),
            Spec("model_info_expand_inferenceProviderMapping_FLUX.1-dev.json"),
            Spec(
                "model_info_expand_inferenceProviderMapping_Llama-3.1-8B-Instruct.json"
            ),
        ],
    ),
    "model_info_transcribed": (
        (
            "Model info bodies transcribed from client test code. **Not wire"
            " captures**: no headers were recorded, the status and headers"
            " below were supplied by this script, and the body bytes are not"
            " the bytes the Hub sent (see the notes)."
        ),
        [
            Spec(
                "model_info_revision_blobs_true_mcpotato_42-eicar-street.json",
                method="GET",
                uri=(
                    "https://huggingface.co/api/models/mcpotato/42-eicar-street"
                    "/revision/8b3861f6931c4026b0cd22b38dbc09e7668983ac?blobs=true"
                ),
                status=(200, "OK"),
                headers={"Content-Type": JSON_CONTENT_TYPE},
                recorded_at="2025-09-27T00:00:00",
                note=(
                    "No sidecar. Request URI from SOURCES.md; status 200 and"
                    " the Content-Type header are assumed (the test compares"
                    " the body of a successful live call). `recorded_at` is"
                    " the date of hf-hub commit 1d3037a, which last updated"
                    " the literal to match live data. The body is a Rust"
                    " `json!` literal (indentation kept, keys alphabetical),"
                    " not wire bytes, so it has no Content-Length."
                ),
                length_matches=False,
            ),
            Spec(
                "model_info_corrupted_model_index_Waynehillsdev.json",
                method="GET",
                uri="https://huggingface.co/api/models/Waynehillsdev/Waynehills-STT-doogie-server",
                status=(200, "OK"),
                headers={"Content-Type": JSON_CONTENT_TYPE},
                recorded_at="2024-07-22T00:00:00",
                note=(
                    "No sidecar. SOURCES.md gives the page URL"
                    " https://huggingface.co/Waynehillsdev/Waynehills-STT-doogie-server,"
                    " not an API request; the request URI, status 200 and the"
                    " Content-Type header were chosen for this cassette. The"
                    " body is list-style (`gitalyUid`, no `sha` /"
                    " `lastModified`), converted from a Python dict literal"
                    " (`json.dumps`, indent 2), and `siblings: null` was"
                    " probably set by the test, not the server."
                    " `recorded_at` is the date of huggingface_hub commit"
                    " 78542a4f, which last touched the literal."
                ),
                length_matches=False,
            ),
        ],
    ),
    "errors": (
        (
            "Error responses with their recorded headers (huggingface_hub VCR"
            " cassettes). Neither is a `/api/models/*` response."
        ),
        [
            Spec("error_401_invalid_username_or_password_router.json"),
            Spec(
                "error_409_repos_create_conflict.json",
                note=(
                    "Sanitised by the huggingface_hub test tooling (owner name"
                    " replaced by `user`), so the body is 105 bytes while the"
                    " recorded `Content-Length` header said 108. **The"
                    " cassette's `Content-Length` was changed to 105**: with"
                    " 108, betamax's own playback (`Interaction.as_response()"
                    ".content`, urllib3 2) raises `IncompleteRead(105 bytes"
                    " read, 3 more expected)`. All other headers are as"
                    " recorded. The request body (the create payload) was not"
                    " recorded."
                ),
                length_matches=False,
                fix_content_length=True,
            ),
        ],
    ),
}


@dataclass
class Built:
    spec: Spec
    data: dict[str, Any]
    body_bytes: int
    content_length: int | None
    sha256_body: str
    sha256_meta: str | None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _betamax_timestamp(http_date: str) -> str:
    """RFC 7231 date -> betamax's ``recorded_at`` format (UTC, no zone)."""
    return parsedate_to_datetime(http_date).strftime("%Y-%m-%dT%H:%M:%S")


def build_interaction(fixtures: Path, spec: Spec) -> Built:
    body_path = fixtures / spec.body_file
    raw = body_path.read_bytes()
    text = raw.decode("utf-8")  # strict: the bodies are UTF-8 text
    assert text.encode("utf-8") == raw

    meta_path = body_path.with_name(body_path.stem + ".meta.json")
    if meta_path.exists():
        meta = json.loads(meta_path.read_text("utf-8"))
        method = meta["request"]["method"]
        uri = meta["request"]["uri"]
        status = {"code": meta["status"]["code"], "message": meta["status"]["message"]}
        headers: dict[str, str] = meta["headers"]
        recorded_at = _betamax_timestamp(headers["Date"])
        sha_meta: str | None = _sha256(meta_path)
    else:
        if spec.uri is None or spec.status is None or spec.recorded_at is None:
            raise SystemExit(f"{spec.body_file}: no sidecar and no fallback values")
        method = spec.method or "GET"
        uri = spec.uri
        status = {"code": spec.status[0], "message": spec.status[1]}
        headers = spec.headers
        recorded_at = spec.recorded_at
        sha_meta = None

    content_length = (
        int(headers["Content-Length"]) if "Content-Length" in headers else None
    )
    if spec.length_matches and content_length != len(raw):
        raise SystemExit(
            f"{spec.body_file}: {len(raw)} bytes but Content-Length {content_length}"
        )
    if spec.fix_content_length:
        headers = {**headers, "Content-Length": str(len(raw))}

    # Key order as in betamax.cassette.Cassette.serialize_interaction and
    # betamax.util.serialize_prepared_request / serialize_response.
    data = {
        "request": {
            "body": {"encoding": "utf-8", "string": ""},
            "headers": {},
            "method": method,
            "uri": uri,
        },
        "response": {
            "body": {"encoding": "utf-8", "string": text},
            "headers": {name: [value] for name, value in headers.items()},
            "status": status,
            "url": uri,
        },
        "recorded_at": recorded_at,
    }
    return Built(spec, data, len(raw), content_length, _sha256(body_path), sha_meta)


def _sources_rows(sources_md: str) -> dict[str, tuple[str, str, str, str]]:
    """file name -> (section title, table header, separator, row), verbatim."""
    rows: dict[str, tuple[str, str, str, str]] = {}
    lines = sources_md.splitlines()
    section = header = sep = ""
    for i, line in enumerate(lines):
        if line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("| file |"):
            header, sep = line, lines[i + 1]
        elif line.startswith("| `"):
            name = line.split("`")[1]
            rows[name] = (section, header, sep, line)
    return rows


PROVENANCE_INTRO = """\
# Provenance of the betamax cassettes

Generated by `tests/cassettes/build_from_fixtures.py` from the Hub
fixtures in `../shared/fixtures/hub/` (relative to the repository root).
Do not edit this file or the cassettes by hand: fix the script and run it
again. The tests only read the cassettes; they never read the fixtures.

## How the cassettes were made

- One cassette per theme, in betamax 0.9's JSON format, written the way
  betamax itself writes it (`json.dumps`, same key order, no trailing
  newline), then loaded back with `betamax.cassette.Cassette`.
- Request method and URI, response status and response headers come
  from each fixture's `.meta.json` sidecar (the huggingface_hub VCR
  cassette's values, converted from YAML; header values unchanged).
  Header values are stored as one-element lists, as betamax records them.
- **Request headers are `{}` and request bodies are empty** in every
  interaction: the sidecars did not keep them. Match on method and URI
  (the default), not on headers or body.
- The response body is the fixture file's text, byte for byte (UTF-8,
  `"encoding": "utf-8"`). The response `url` is the request URI.
- `recorded_at` is the response's `Date` header converted to betamax's
  format (UTC), or, where no headers were recorded, the commit date
  named in SOURCES.md.
- Body length equals the recorded `Content-Length` everywhere except
  in the one sanitised body flagged below, whose `Content-Length` header
  was set to the real body length (the only header changed; betamax
  cannot play back a body shorter than its `Content-Length`). The
  transcribed bodies have no `Content-Length`.
- Later interactions may be added with `tests/record_cassettes.py`
  (real network, never run by tests); such interactions have real
  request headers, minus `Authorization`.

The "origin" rows below are copied verbatim from SOURCES.md
(repo@commit:path, date, notes). "same cassette as above" in the 307
row of `model_info_bert-base-uncased_307_redirect.txt` refers to the
`model_info_google-bert_bert-base-uncased.json` row.
"""


def render_provenance(
    built: dict[str, list[Built]], sources_md: str, sources_sha: str
) -> str:
    rows = _sources_rows(sources_md)
    out = [PROVENANCE_INTRO]
    out.append(f"SOURCES.md used: sha256 `{sources_sha}`.\n")
    for name, items in built.items():
        description = CASSETTES[name][0]
        out.append(f"## `{name}.json` ({len(items)} interactions)\n")
        out.append(description + "\n")
        out.append(
            "| # | method | request URI | status | recorded_at | body bytes"
            " | recorded Content-Length | fixture (sha256 of body / meta) |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for i, b in enumerate(items):
            req, resp = b.data["request"], b.data["response"]
            status = f"{resp['status']['code']} {resp['status']['message']}"
            location = resp["headers"].get("Location")
            if location:
                status += f", Location `{location[0]}`"
            cl = "—" if b.content_length is None else str(b.content_length)
            if b.spec.fix_content_length:
                cl += f" (cassette: {b.body_bytes})"
            meta = b.sha256_meta[:12] if b.sha256_meta else "no sidecar"
            out.append(
                f"| {i} | {req['method']} | {req['uri']} | {status}"
                f" | {b.data['recorded_at']} | {b.body_bytes} | {cl}"
                f" | `{b.spec.body_file}` ({b.sha256_body[:12]} / {meta}) |"
            )
        out.append("")
        notes = [(b.spec.body_file, b.spec.note) for b in items if b.spec.note]
        if notes:
            out.append("Notes:\n")
            out.extend(f"- `{f}`: {n}" for f, n in notes)
            out.append("")
        out.append("Origin (verbatim from SOURCES.md):\n")
        last_header = None
        for b in items:
            section, header, sep, row = rows[b.spec.body_file]
            if header != last_header:
                if last_header is not None:
                    out.append("")
                out.append(f'From SOURCES.md section "{section}":\n')
                out.extend([header, sep])
                last_header = header
            out.append(row)
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def _verify(out_dir: Path, built: dict[str, list[Built]]) -> None:
    from betamax.cassette import Cassette

    for name, items in built.items():
        cassette = Cassette(
            name, "json", cassette_library_dir=str(out_dir), record_mode="none"
        )
        if len(cassette.interactions) != len(items):
            raise SystemExit(f"{name}: betamax loaded {len(cassette.interactions)}")
        for interaction, b in zip(cassette.interactions, items, strict=True):
            expected = b.data["response"]["body"]["string"].encode("utf-8")
            if interaction.as_response().content != expected:
                raise SystemExit(f"{name}: body of {b.spec.body_file} differs")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "fixtures",
        nargs="?",
        type=Path,
        default=DEFAULT_FIXTURES,
        help="fixtures folder (default: ../shared/fixtures/hub from the repo root)",
    )
    parser.add_argument(
        "--out", type=Path, default=HERE, help="output folder (default: this folder)"
    )
    args = parser.parse_args(argv)
    fixtures: Path = args.fixtures.resolve()
    out_dir: Path = args.out.resolve()
    sources = fixtures / "SOURCES.md"

    built: dict[str, list[Built]] = {}
    for name, (_, specs) in CASSETTES.items():
        items = [build_interaction(fixtures, spec) for spec in specs]
        built[name] = items
        cassette = {
            "http_interactions": [b.data for b in items],
            "recorded_with": BETAMAX_RECORDED_WITH,
        }
        (out_dir / f"{name}.json").write_text(json.dumps(cassette), encoding="utf-8")

    provenance = render_provenance(built, sources.read_text("utf-8"), _sha256(sources))
    (out_dir / "PROVENANCE.md").write_text(provenance, encoding="utf-8")
    _verify(out_dir, built)
    for name, items in built.items():
        print(f"{name}.json: {len(items)} interactions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
