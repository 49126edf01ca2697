"""``/{repo_id}/resolve/{revision}/{file}``: model cards (hub-api.md §6.1, §7).

Every model's ``README.md`` is one of the real recorded cards in
``data/cards/`` (``SOURCES.md`` there), given out in turn by the model's position
in the hub, or one of a few broken variants invented from them for the faults
the real Hub holds: YAML that does not parse, YAML that is a scalar, a byte-order
mark, CRLF line ends, invalid UTF-8, a card over a megabyte, the unfilled
auto-generated template, and no README at all (404 ``EntryNotFound``).

Answers carry ``X-Repo-Commit`` (the model's sha) and ``ETag`` (the git blob id,
quoted, as the Hub sends for a file not in LFS). The revision is ``main`` or the
model's sha, else 404 ``RevisionNotFound``; a renamed repo answers 307 to its new
id's URL; a missing or private one 401 (anonymous) or 404 (with a token); a
disabled one 403. A gated repo serves its README to anyone; its other files
answer 401 ``GatedRepo`` (403 with a token without access).
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources
from typing import TYPE_CHECKING, Final
from urllib.parse import quote, unquote

from fakehub.exchange import HubRequest, HubResponse, json_error
from fakehub.records import REDIRECTS

if TYPE_CHECKING:
    from fakehub.server import FakeHub

MARKDOWN_TYPE: Final = "text/markdown; charset=utf-8"
# The real cards, served as recorded (data/cards/SOURCES.md).
REAL_CARDS: Final = (
    "readme_bartowski__Llama-3.2-3B-Instruct-GGUF.md",
    "readme_google__gemma-3-1b-it-qat-q4_0-gguf.md",
    "readme_hfhub_testfixture_sample_simple_model_index.md",
    "readme_QuantFactory__Arch-Agent-7B-GGUF.md",
    "readme_eaddario__gemma-3-12b-it-pruned-GGUF.md",
    "readme_hfhub_testfixture_sample_simple.md",
    "readme_hugging-quants__Llama-3.2-1B-Instruct-Q4_K_M-GGUF.md",
    "readme_MaziyarPanahi__Llama-3.1-8B-RainbowLight-EtherealMix-GGUF.md",
    "readme_androlike__astramix_l2_7b_gguf.md",
    "readme_hfhub_testfixture_sample_invalid_model_index.md",
    "readme_hfhub_testfixture_sample_no_metadata.md",
    "readme_hfhub_testfixture_sample_windows_line_breaks.md",
    "readme_hfhub_testfixture_sample_invalid_card_data.md",  # a list, not a mapping
    "readme_spec_hub-docs_modelcard.md",  # YAML that does not parse
    "readme_hfhub_testfixture_sample_datasetcard_simple.md",
)
# Invented from the real cards, for the faults (see _fault_body).
FAULTS: Final = (
    "template",
    "invalid_yaml",
    "scalar_yaml",
    "bom",
    "crlf",
    "invalid_utf8",
    "no_readme",
)
OVERSIZE: Final = "oversize"
NO_README: Final = "no_readme"
# Every model in turn gets the next of these; a card of 1.2 MB only every
# OVERSIZE_EVERY models, which keeps benchmarks about cards, not bandwidth.
CYCLE: Final = (*REAL_CARDS, *FAULTS)
OVERSIZE_EVERY: Final = 997
OVERSIZE_BYTES: Final = 1_200_000
_TEMPLATE_FILE: Final = "readme_template_hfhub_modelcard_template.md"
_TEMPLATE_VALUE: Final = re.compile(
    r"\{\{\s*(\w+)\s*\|\s*default\(\"((?:[^\"\\]|\\.)*)\",\s*true\)\s*\}\}"
)


def card_file(name: str) -> bytes:
    """The recorded bytes of a card in ``data/cards``."""
    return (resources.files(__package__) / "data" / "cards" / name).read_bytes()


def render_template(model_id: str, card_data: str) -> bytes:
    """huggingface_hub's model card template as its ``ModelCard.from_template``
    renders it when the author gives nothing but the card data: every value is
    the template's default (``[More Information Needed]``)."""
    source = card_file(_TEMPLATE_FILE).decode()
    source = source.replace("{{ card_data }}", card_data)

    def value(match: re.Match[str]) -> str:
        return model_id if match.group(1) == "model_id" else match.group(2)

    return _TEMPLATE_VALUE.sub(value, source).encode()


def _fault_body(variant: str) -> bytes:
    if variant == "template":
        return render_template(
            "fake-org/unfilled", "library_name: transformers\ntags: []"
        )
    if variant == "invalid_yaml":
        # a colon inside a plain value: "mapping values are not allowed here"
        real = card_file(REAL_CARDS[3])
        return real.replace(b"license: other\n", b"license: other: see below\n", 1)
    if variant == "scalar_yaml":
        real = card_file("readme_androlike__astramix_l2_7b_gguf.md")
        _, _, body = real.partition(b"\n---\n")
        return b"---\njust a sentence, not a mapping\n---\n" + body
    if variant == "bom":
        return b"\xef\xbb\xbf" + card_file(REAL_CARDS[0])
    if variant == "crlf":
        return card_file(REAL_CARDS[6]).replace(b"\n", b"\r\n")
    if variant == "invalid_utf8":
        # latin-1 bytes in a UTF-8 file, in the front matter and in the text
        real = card_file(REAL_CARDS[7])
        real = real.replace(
            b"model_creator: ZeroXClem", b"model_creator: Zer\xf6Clem", 1
        )
        return real.replace(b"## Description", b"## Descripti\xf3n \xff\xfe", 1)
    if variant == OVERSIZE:
        real = card_file(REAL_CARDS[4])
        head, sep, body = real.partition(b"\n---\n")
        copies = OVERSIZE_BYTES // len(body) + 1
        return head + sep + body * copies
    raise ValueError(f"unknown card variant {variant!r}")


def git_blob_id(body: bytes) -> str:
    """The id git gives a file's content: the ETag of a file not in LFS."""
    header = f"blob {len(body)}\0".encode()
    return hashlib.sha1(header + body, usedforsecurity=False).hexdigest()


class Cards:
    """The README resource of one fake Hub."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self._bodies: dict[str, tuple[bytes, str]] = {}

    # -- which card a model has ------------------------------------------------
    def variant(self, repo_id: str) -> str | None:
        """The name of the card ``repo_id`` serves (a file of REAL_CARDS, or a
        fault), ``no_readme``; None for a repo the hub does not hold."""
        index = self.hub._by_id.get(repo_id)
        if index is None:
            return None
        if index % OVERSIZE_EVERY == OVERSIZE_EVERY - 1:
            return OVERSIZE
        return CYCLE[index % len(CYCLE)]

    def readme(self, variant: str) -> tuple[bytes, str]:
        """The body of a card variant, and its ETag."""
        found = self._bodies.get(variant)
        if found is None:
            body = (
                card_file(variant) if variant.endswith(".md") else _fault_body(variant)
            )
            found = self._bodies[variant] = (body, f'"{git_blob_id(body)}"')
        return found

    def readme_of(self, repo_id: str) -> bytes | None:
        """What ``/{repo_id}/resolve/main/README.md`` serves; None: no README."""
        variant = self.variant(repo_id)
        if variant is None or variant == NO_README:
            return None
        return self.readme(variant)[0]

    # -- HTTP -------------------------------------------------------------------
    def answer(self, request: HubRequest) -> HubResponse:
        repo_part, _, rest = request.path.partition("/resolve/")
        repo_id = unquote(repo_part.lstrip("/"))
        revision, _, filename = rest.partition("/")
        revision = unquote(revision)
        filename = unquote(filename)
        if repo_id.startswith(("datasets/", "spaces/")) or not filename:
            return json_error(404, "Not found")
        renamed = REDIRECTS.get(repo_id)
        if renamed is not None:
            location = (
                f"/{renamed[0]}/resolve/{quote(revision, safe='')}/{quote(filename)}"
            )
            return HubResponse(
                307,
                f"Temporary Redirect. Redirecting to {location}".encode(),
                "text/plain; charset=utf-8",
                [("Location", location)],
            )
        hub = self.hub
        index = hub._by_id.get(repo_id)
        rec = hub.records[index] if index is not None else None
        if rec is None or (
            rec.get("private") is True and hub._token(request) != hub.owner_token
        ):
            return hub.not_found(request)
        if rec.get("disabled") is True:
            return json_error(403, "Access to this resource is disabled.", header=True)
        sha = rec.get("sha")
        if revision not in ("main", sha):
            return json_error(
                404, f"Invalid rev id: {revision}", code="RevisionNotFound", header=True
            )
        headers = [("X-Repo-Commit", str(sha))] if sha else []
        if filename != "README.md":
            if rec.get("gated") not in (False, None, "false"):
                return self._gated(request, repo_id)
            return self._no_entry(headers)
        variant = self.variant(repo_id)
        if variant is None or variant == NO_README:
            return self._no_entry(headers)
        body, etag = self.readme(variant)
        headers.append(("ETag", etag))
        return HubResponse(200, body, MARKDOWN_TYPE, headers)

    @staticmethod
    def _no_entry(headers: list[tuple[str, str]]) -> HubResponse:
        response = json_error(404, "Entry not found", code="EntryNotFound", header=True)
        response.headers.extend(headers)
        return response

    @staticmethod
    def _gated(request: HubRequest, repo_id: str) -> HubResponse:
        if request.authorization is None:
            message = (
                f"Access to model {repo_id} is restricted. You must have access to it"
                " and be authenticated to access it. Please log in."
            )
            return json_error(401, message, code="GatedRepo", header=True)
        message = (
            f"Access to model {repo_id} is restricted and you are not in the"
            f" authorized list. Visit https://huggingface.co/{repo_id} to ask for access."
        )
        return json_error(403, message, code="GatedRepo", header=True)
