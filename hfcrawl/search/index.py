"""The TF-IDF index of a run, built once and kept in ``<run>/.search/``.

Stored without pickle (a run folder may come from someone else): the
vectoriser's vocabulary as JSON, its idf weights and the document matrix as
NumPy/SciPy files, the documents' metadata as Parquet. ``fingerprint.json``
holds a hash of what the index was built from — the ``models`` and ``cards``
parts and the manifest (names, sizes, mtimes), the index format and
scikit-learn's version — and the index is rebuilt whenever that changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer

from hfcrawl.report.run import Run
from hfcrawl.search.corpus import TABLES, Meta, documents

INDEX_DIR = ".search"
DENSE_DIR = "dense"  # the dense index's folder inside INDEX_DIR (hfcrawl.search.dense)
LINE_CHARS = 160
FORMAT = 2  # bumped whenever documents or vectoriser change: old indexes rebuild
# Words with digits stay whole ("7b", "q4_k_m", "3.1" split at the dot).
VECTORIZER: dict[str, Any] = {
    "lowercase": True,
    "token_pattern": r"(?u)\b\w+\b",
    "stop_words": "english",
    "ngram_range": (1, 1),
    "sublinear_tf": True,
    "dtype": np.float32,
}
MIN_DF_FROM = 1_000  # documents: from here on, a term must be in two of them


@dataclass
class Index:
    vectorizer: TfidfVectorizer
    matrix: sp.csr_matrix  # documents x terms, rows L2-normalised
    meta: Meta
    built: bool  # built now (else loaded)
    seconds: float  # building or loading

    def scores(self, query: str) -> np.ndarray:
        """Cosine similarity of every document to ``query``; -inf where the
        document holds none of its words."""
        vector = self.vectorizer.transform([query])
        scores = np.asarray((self.matrix @ vector.T).todense(), dtype=np.float64)
        scores = scores.ravel()
        scores[scores <= 0] = -np.inf
        return scores

    def line(self, query: str, text: str, fallback: str) -> str | None:
        """The line of ``text`` holding the most of the query's weight (idf of
        the query's words in it); else ``fallback`` (name and tags) if it holds
        any."""
        analyse = self.vectorizer.build_analyzer()
        vocabulary = self.vectorizer.vocabulary_
        idf = self.vectorizer.idf_
        terms = {t: idf[vocabulary[t]] for t in analyse(query) if t in vocabulary}
        if not terms:
            return None
        best, best_weight = None, 0.0
        for line in [*text.splitlines(), fallback]:
            stripped = line.strip()
            if not stripped:
                continue
            present = set(analyse(stripped)) & terms.keys()
            weight = sum(terms[t] for t in present)
            if weight > best_weight:
                best, best_weight = stripped, weight
        return None if best is None else shorten(best)


def shorten(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


def fingerprint(run: Run) -> str:
    h = hashlib.sha256()
    h.update(
        json.dumps(
            [FORMAT, sklearn.__version__, run.fingerprint_items(TABLES)]
        ).encode()
    )
    return h.hexdigest()


def build(run: Run) -> Index:
    start = time.perf_counter()
    meta = Meta()
    n = sum(
        run.query(f'SELECT count(*) FROM "{t}"')[0][0] for t in TABLES if run.has(t)
    )
    vectorizer = TfidfVectorizer(**VECTORIZER, min_df=2 if n >= MIN_DF_FROM else 1)
    try:
        matrix = vectorizer.fit_transform(documents(run, meta)).tocsr()
    except ValueError:  # every document empty, or only stop words
        vectorizer = TfidfVectorizer(**{**VECTORIZER, "stop_words": None})
        meta = Meta()
        matrix = vectorizer.fit_transform(documents(run, meta)).tocsr()
    index = Index(vectorizer, matrix, meta, True, 0.0)
    save(run, index)
    index.seconds = time.perf_counter() - start
    return index


def write_meta(m: Meta, path: Path) -> None:
    pq.write_table(
        pa.table(
            {
                "id": pa.array(m.ids, pa.string()),
                "task": pa.array(m.tasks, pa.string()),
                "license": pa.array(m.licenses, pa.string()),
                "downloads": pa.array(m.downloads, pa.int64()),
                "parameters": pa.array(m.parameters, pa.int64()),
            }
        ),
        path,
    )


def read_meta(path: Path) -> Meta:
    table = pq.read_table(path).to_pydict()
    return Meta(
        ids=table["id"],
        tasks=table["task"],
        licenses=table["license"],
        downloads=table["downloads"],
        parameters=table["parameters"],
    )


def replace_folder(tmp: Path, final: Path, keep: tuple[str, ...] = ()) -> None:
    """``final`` becomes ``tmp`` in one rename (a reader never sees half an
    index); the subfolders named in ``keep`` (other indexes) move across."""
    for name in keep:
        if (final / name).is_dir() and not (tmp / name).exists():
            os.replace(final / name, tmp / name)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def save(run: Run, index: Index) -> None:
    final = run.path / INDEX_DIR
    tmp = run.path / f"{INDEX_DIR}.{os.getpid()}.inprogress"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    vocabulary = {t: int(i) for t, i in index.vectorizer.vocabulary_.items()}
    (tmp / "vocabulary.json").write_text(json.dumps(vocabulary))
    np.save(tmp / "idf.npy", index.vectorizer.idf_)
    sp.save_npz(tmp / "matrix.npz", index.matrix)
    write_meta(index.meta, tmp / "meta.parquet")
    params = index.vectorizer.get_params()
    settings = {k: params[k] for k in ("min_df", "stop_words")}
    (tmp / "fingerprint.json").write_text(
        json.dumps({"fingerprint": fingerprint(run), "settings": settings})
    )
    # the dense index lives inside .search/ and has its own fingerprint
    replace_folder(tmp, final, keep=(DENSE_DIR,))


def load(run: Run) -> Index | None:
    """The stored index, if it is the run's current one."""
    start = time.perf_counter()
    folder = run.path / INDEX_DIR
    try:
        stored = json.loads((folder / "fingerprint.json").read_text())
        if stored.get("fingerprint") != fingerprint(run):
            return None
        vocabulary = json.loads((folder / "vocabulary.json").read_text())
        idf = np.load(folder / "idf.npy")
        matrix = sp.load_npz(folder / "matrix.npz").tocsr()
        meta = read_meta(folder / "meta.parquet")
    except (OSError, ValueError, KeyError):
        return None
    vectorizer = TfidfVectorizer(
        **{**VECTORIZER, **stored["settings"]}, vocabulary=vocabulary
    )
    vectorizer.idf_ = idf
    return Index(vectorizer, matrix, meta, False, time.perf_counter() - start)


def ensure(run: Run, rebuild: bool = False) -> Index:
    """The run's index: loaded when current, else built (and stored)."""
    found = None if rebuild else load(run)
    return found if found is not None else build(run)
