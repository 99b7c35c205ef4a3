"""Distinctive terms: word counts per framing, counted a chunk at a time, and class-based TF-IDF (as in BERTopic);
the tokens and stop-words the contrast's word counts share."""
from __future__ import annotations

import functools

from typing import Any, Iterable, Sequence

import numpy as np

from .partition import UNASSIGNED
from .vectors import members_of

__all__ = ["CLASSES_PER_COUNT", "NEWS_STOP_WORDS", "stop_words", "TOKEN_PATTERN", "class_term_counts", "class_tfidf_from_counts",
           "class_tfidf_terms", "count_terms", "term_label"]


# Reporting verbs and fillers of news prose: frequent in every framing, distinctive of none.
NEWS_STOP_WORDS = frozenset(
    "said says say told tells according reported reports added asked just like also would could did does don "
    "didn doesn isn wasn won ll ve re st mr mrs ms".split()
)


# Words, optionally hyphenated, that start with a letter: bare numbers, years and counts never become terms.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][\w'’-]*[^\W_]\b"


CLASSES_PER_COUNT = 64  # framings whose joined texts are counted at a time (count_terms)


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """What no term (and no name's phrase) starts or ends with: English stop-words (scikit-learn's, imported only
    when asked for) and news prose's reporting verbs."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS)


def class_tfidf_terms(texts: Sequence[str], labels: np.ndarray, n_terms: int = 10, ngram_max: int = 2
                      ) -> dict[int, list[tuple[str, float]]]:
    """Distinctive terms per class by class-based TF-IDF (as in BERTopic).

    All texts of a class form one document; a term's weight is its frequency in the class (normalised by the
    class's length) times ``log(1 + A / f)``, where ``A`` is the mean class length and ``f`` the term's
    frequency over all classes. English stop-words, reporting verbs ("said", "told") and bare numbers are
    left out. The unassigned class takes
    part in the frequencies (so what is common everywhere scores low) but gets no terms.
    """
    return class_tfidf_from_counts(*class_term_counts(texts, labels, ngram_max), n_terms=n_terms)


def count_terms(texts: Iterable[str], vectorizer, chunk: int = 50_000) -> tuple[Any, np.ndarray]:
    """``vectorizer.fit_transform(texts)`` and its vocabulary (sorted, as scikit-learn gives it), counted ``chunk``
    texts at a time.

    A ``CountVectorizer`` keeps every token's column and count in Python lists until the end: 700 MB of
    transient memory for a million units' word counts. Each chunk is counted by a fresh copy of ``vectorizer``
    and its columns mapped into one vocabulary, so the answer is the same matrix (the vectorizer must not prune
    by document frequency or keep a fixed vocabulary). Raises ``ValueError`` for an empty vocabulary, as
    scikit-learn does.
    """
    from scipy.sparse import csr_matrix
    from sklearn.base import clone

    column_of: dict[str, int] = {}
    data, indices, row_lengths = [], [], []
    dtype = getattr(vectorizer, "dtype", np.int64)
    batch: list[str] = []

    def count(part: list[str]) -> None:
        fitted = clone(vectorizer)
        try:
            counts = fitted.fit_transform(part).tocsr()
        except ValueError:  # this chunk has no term the vectorizer keeps; another may
            row_lengths.append(np.zeros(len(part), dtype=np.int64))
            return
        names = fitted.get_feature_names_out().tolist()
        columns = np.fromiter((column_of.setdefault(name, len(column_of)) for name in names), dtype=np.int32,
                              count=len(names))
        data.append(counts.data.astype(dtype, copy=False))  # the final type now: no wider copy of all of them
        indices.append(columns[counts.indices])
        row_lengths.append(np.diff(counts.indptr))

    for text in texts:
        batch.append(text)
        if len(batch) == chunk:
            count(batch)
            batch = []
    if batch or not row_lengths:
        count(batch)
    if not column_of:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    vocabulary = np.array(list(column_of), dtype=object)
    order = np.argsort(vocabulary.astype(str), kind="stable")  # scikit-learn's order: the terms sorted
    rank = np.empty(order.size, dtype=np.int32)  # scipy's own index type for fewer than 2**31 terms
    rank[order] = np.arange(order.size)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(row_lengths))])
    # columns renumbered a chunk at a time, then each array joined once and its chunks let go: renumbering the
    # joined columns made a third copy of them (~25 MB of the contrast stage's peak at a million units)
    for part in indices:
        part[:] = rank[part]
    all_indices = np.concatenate(indices) if indices else np.zeros(0, np.int32)
    indices.clear()
    all_data = np.concatenate(data) if data else np.zeros(0, dtype)
    data.clear()
    matrix = csr_matrix((all_data, all_indices, indptr), shape=(indptr.size - 1, order.size))
    matrix.sort_indices()
    return matrix, vocabulary[order]


def class_term_counts(texts: Sequence[str], labels: np.ndarray, ngram_max: int = 2
                      ) -> tuple[list[int], Any, np.ndarray]:
    """The classes (sorted), their term counts (sparse, a row per class) and the vocabulary: what class-based
    TF-IDF scores. Counts of broader classes are sums of these rows (``framing.framings.hierarchy`` does that)."""
    from sklearn.feature_extraction.text import CountVectorizer
    from scipy.sparse import csr_matrix

    labels = np.asarray(labels)
    classes = sorted(set(labels.tolist()))
    # a class's texts joined in corpus order, read one at a time (``texts`` may cut them when read: UnitColumn),
    # and counted a few classes at a time
    joined = (" ".join(texts[i] for i in rows.tolist()) for rows in members_of(labels).values())
    stop_list = sorted(stop_words())
    vectorizer = CountVectorizer(ngram_range=(1, ngram_max), stop_words=stop_list, token_pattern=TOKEN_PATTERN)
    try:
        # kept sparse: a thousand framings times a large bigram vocabulary would not fit in memory dense
        counts, vocabulary = count_terms(joined, vectorizer, chunk=CLASSES_PER_COUNT)
        counts = counts.astype(np.float64).tocsc()
    except ValueError:  # empty vocabulary: every text was stop-words or numbers
        return classes, csr_matrix((len(classes), 0)), np.array([], dtype=object)
    term_totals = np.asarray(counts.sum(axis=0)).ravel()
    # A term seen once in the whole corpus says nothing recurring; drop those unless nothing else is left.
    recurring = term_totals >= 2
    if recurring.any():
        counts, vocabulary = counts[:, recurring], vocabulary[recurring]
    return classes, counts.tocsr(), vocabulary


def class_tfidf_from_counts(classes: Sequence[int], counts, vocabulary: np.ndarray, n_terms: int = 10,
                            scored: tuple[Sequence[int], Any] | None = None) -> dict[int, list[tuple[str, float]]]:
    """Class-based TF-IDF over term counts (a sparse row per class of ``classes``): the top terms per class.

    ``scored``: other classes (ids, and their count rows, e.g. the sums of several classes) to score with the
    term weights of ``classes`` instead of those classes themselves.
    """
    if counts.shape[1] == 0:
        return {c: [] for c in (scored[0] if scored is not None else classes) if c != UNASSIGNED}
    counts = counts.tocsr()
    term_totals = np.asarray(counts.sum(axis=0)).ravel()
    average_class_length = counts.sum() / max(len(classes), 1)
    idf = np.log(1.0 + average_class_length / np.maximum(term_totals, 1.0))
    if scored is not None:
        classes, counts = list(scored[0]), scored[1].tocsr()
    class_lengths = np.asarray(counts.sum(axis=1)).ravel()
    # tf * idf row by row; a row's stored columns are in vocabulary order, so a stable sort breaks ties as before
    scores = counts.multiply(1.0 / np.maximum(class_lengths, 1.0)[:, None]).multiply(idf[None, :]).tocsr()
    scores.sort_indices()
    out: dict[int, list[tuple[str, float]]] = {}
    for row, c in enumerate(classes):
        if c == UNASSIGNED:
            continue
        start, end = scores.indptr[row], scores.indptr[row + 1]
        values, columns = scores.data[start:end], scores.indices[start:end]
        top = [k for k in np.argsort(-values, kind="stable")[:n_terms] if values[k] > 0]
        out[c] = [(str(vocabulary[columns[k]]), round(float(values[k]), 6)) for k in top]
    return out


def term_label(terms: Sequence[str], n: int) -> str:
    """Join the top terms, skipping a term whose words a chosen term already says ("siege" after "siege city")."""
    chosen: list[str] = []
    covered: set[str] = set()
    for term in terms:
        words = set(term.split())
        if words <= covered:
            continue
        chosen.append(term)
        covered |= words
        if len(chosen) == n:
            break
    return " / ".join(chosen) if chosen else "(no distinctive terms)"
