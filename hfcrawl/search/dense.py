"""The dense index of a run (``hfcrawl search --dense``, ``--hybrid``): one
embedding per model from wordllama's ``l2_supercat`` word embeddings (256
dimensions, average-pooled over the document's tokens), which the wheel ships
with its tokenizer, so nothing is downloaded. Optional: ``pip install
'hfcrawl[embed]'``.

Kept in ``<run>/.search/dense/``: the L2-normalised vectors as one NumPy
``.npy`` (no pickle), the documents' metadata as Parquet and a fingerprint of
what it was built from (the run's parts and manifest, the index format, the
model and wordllama's version): any change rebuilds it, as for TF-IDF.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hfcrawl.cli import UsageError
from hfcrawl.report.run import Run
from hfcrawl.search.corpus import TABLES, Meta, documents
from hfcrawl.search.index import (
    DENSE_DIR,
    INDEX_DIR,
    Index,
    read_meta,
    replace_folder,
    shorten,
    write_meta,
)

MODEL = "l2_supercat"
DIM = 256
FORMAT = 1  # bumped whenever documents or pooling change: old indexes rebuild
# Of a card's text embedded: an average over a whole card drowns its opening
# lines (what the model is) in boilerplate, usage code and tables.
TEXT_CHARS = 2_000
BATCH = 4_096  # documents tokenised at once
LINE_MIN_WORDS = 3  # shorter card lines ("---", "## Usage") are never shown
MISSING = "--dense and --hybrid need the embed extra: pip install 'hfcrawl[embed]'"


class Encoder:
    """wordllama's model: texts -> L2-normalised float32 rows.

    The same average of token embeddings as ``WordLlamaInference.embed``, but
    as one sparse product (token counts x embedding table) instead of a batch
    padded to its longest text: five times faster on cards of uneven length.
    """

    def __init__(self, model: Any) -> None:
        self.tokenizer = model.tokenizer
        self.tokenizer.no_padding()
        self.table = np.asarray(model.embedding, dtype=np.float32)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(texts, add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encoded), np.int64, len(encoded))
        tokens = np.fromiter(
            (t for e in encoded for t in e.ids), np.int64, int(lengths.sum())
        )
        np.clip(tokens, 0, self.table.shape[0] - 1, out=tokens)
        counts = sp.csr_matrix(
            (
                np.ones(tokens.size, dtype=np.float32),
                tokens,
                np.concatenate([[0], np.cumsum(lengths)]),
            ),
            shape=(len(texts), self.table.shape[0]),
        )
        vectors = np.asarray(counts @ self.table, dtype=np.float32)
        # the mean's scale goes in the normalisation; an empty text has no
        # tokens, hence a zero vector: it stays zero
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        np.divide(vectors, norms, out=vectors, where=norms > 0)
        return vectors


def load_encoder() -> Encoder:
    """The packaged model; a UsageError (one line, exit 2) without the extra."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
    except ImportError:
        raise UsageError(MISSING) from None
    finally:
        # wordllama's __init__ calls logging.basicConfig(level=INFO)
        root.handlers[:] = handlers
        root.setLevel(level)
    # WordLlama.load looks for the packaged tokenizer in wordllama/tokenizer/,
    # but the wheel has it in wordllama/tokenizers/, and would download it from
    # the Hub into ~/.cache/wordllama. Given the package folder as its cache,
    # it finds both files there; disable_download makes a miss an error.
    package = Path(wordllama.__file__).parent
    try:
        model = wordllama.WordLlama.load(
            MODEL, dim=DIM, cache_dir=package, disable_download=True
        )
    except FileNotFoundError as exc:
        raise UsageError(f"wordllama's packaged model is missing: {exc}") from None
    return Encoder(model)


@dataclass
class DenseIndex:
    vectors: np.ndarray  # documents x DIM, rows L2-normalised (zero: empty)
    meta: Meta
    encoder: Encoder
    built: bool  # built now (else loaded)
    seconds: float  # building or loading

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of every document to ``query``: every document
        has one, so none is left out."""
        vector = self.encoder.encode([query])[0]
        return np.asarray(self.vectors @ vector, dtype=np.float64)

    def line(self, query: str, text: str, fallback: str) -> str | None:
        """The card line (of the part embedded) closest to the query; else
        ``fallback`` (the name) when the card has no line of a few words."""
        lines = [
            stripped
            for raw in text[:TEXT_CHARS].splitlines()
            if len((stripped := raw.strip()).split()) >= LINE_MIN_WORDS
        ]
        candidates = lines or [fallback]
        vectors = self.encoder.encode([query, *candidates])
        best = int(np.argmax(vectors[1:] @ vectors[0]))
        return shorten(candidates[best])


def fingerprint(run: Run) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [
                FORMAT,
                MODEL,
                DIM,
                metadata.version("wordllama"),
                run.fingerprint_items(TABLES),
            ]
        ).encode()
    )
    return h.hexdigest()


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for text in texts:
        chunk.append(text)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(run: Run, encoder: Encoder) -> DenseIndex:
    start = time.perf_counter()
    meta = Meta()
    parts = [
        encoder.encode(chunk)
        for chunk in _chunks(documents(run, meta, TEXT_CHARS), BATCH)
    ]
    vectors = np.vstack(parts) if parts else np.zeros((0, DIM), dtype=np.float32)
    index = DenseIndex(vectors, meta, encoder, True, 0.0)
    save(run, index)
    index.seconds = time.perf_counter() - start
    return index


def save(run: Run, index: DenseIndex) -> None:
    parent = run.path / INDEX_DIR
    parent.mkdir(exist_ok=True)
    final = parent / DENSE_DIR
    tmp = parent / f"{DENSE_DIR}.{os.getpid()}.inprogress"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    np.save(tmp / "vectors.npy", index.vectors, allow_pickle=False)
    write_meta(index.meta, tmp / "meta.parquet")
    (tmp / "fingerprint.json").write_text(
        json.dumps({"fingerprint": fingerprint(run), "model": MODEL, "dim": DIM})
    )
    replace_folder(tmp, final)


def load(run: Run, encoder: Encoder) -> DenseIndex | None:
    """The stored index, if it is the run's current one."""
    start = time.perf_counter()
    folder = run.path / INDEX_DIR / DENSE_DIR
    try:
        stored = json.loads((folder / "fingerprint.json").read_text())
        if stored.get("fingerprint") != fingerprint(run):
            return None
        # mapped, not read: a later search touches only what it multiplies
        vectors = np.load(folder / "vectors.npy", mmap_mode="r", allow_pickle=False)
        meta = read_meta(folder / "meta.parquet")
    except (OSError, ValueError, KeyError):
        return None
    if vectors.shape != (len(meta.ids), DIM):
        return None
    return DenseIndex(vectors, meta, encoder, False, time.perf_counter() - start)


def ensure(
    run: Run, rebuild: bool = False, encoder: Encoder | None = None
) -> DenseIndex:
    """The run's dense index: loaded when current, else built (and stored)."""
    encoder = encoder or load_encoder()
    found = None if rebuild else load(run, encoder)
    return found if found is not None else build(run, encoder)


RRF_K = 60  # reciprocal rank fusion's usual constant


def _ranks(scores: np.ndarray) -> np.ndarray:
    """1 for the best score, 2 for the next...; inf where nothing matched.
    Ties keep index (id) order."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.float64)
    ranks[order] = np.arange(1, len(scores) + 1)
    ranks[~np.isfinite(scores)] = np.inf
    return ranks


@dataclass
class Hybrid:
    """TF-IDF and dense together by reciprocal rank fusion: each model scores
    1/(k + its rank) in each ranking, summed and scaled so that first in
    both is 1. Ranks, not scores, are fused: the two cosines have unrelated
    scales."""

    tfidf: Index
    dense: DenseIndex

    def __post_init__(self) -> None:
        if self.tfidf.meta.ids != self.dense.meta.ids:
            raise ValueError("the TF-IDF and dense indexes hold different models")

    @property
    def meta(self) -> Meta:
        return self.tfidf.meta

    def scores(self, query: str) -> np.ndarray:
        fused = np.zeros(len(self.meta.ids), dtype=np.float64)
        for scores in (self.tfidf.scores(query), self.dense.scores(query)):
            fused += 1.0 / (RRF_K + _ranks(scores))
        return fused * (RRF_K + 1) / 2

    def line(self, query: str, text: str, fallback: str) -> str | None:
        # the line holding the query's words when there is one
        return self.tfidf.line(query, text, fallback) or self.dense.line(
            query, text, fallback
        )
