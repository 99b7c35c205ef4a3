"""The words that separate two groups within a label: log-odds ratios with an informative Dirichlet prior (Monroe,
Colaresi & Quinn 2008, "Fightin' Words"), z-scores, counts and the units that use them."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..framings.terms import NEWS_STOP_WORDS, TOKEN_PATTERN, count_terms
from .design import ContrastInput


def contrast_vectorizer(ngram_max: int = 1):
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    return CountVectorizer(ngram_range=(1, ngram_max), token_pattern=TOKEN_PATTERN, dtype=np.int32,
                           stop_words=sorted(ENGLISH_STOP_WORDS | NEWS_STOP_WORDS))


def fightin_words(counts_a: np.ndarray, counts_b: np.ndarray, prior: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008), and its z-score.

    ``prior`` holds background counts of every word (the whole corpus). They are rescaled so that the prior
    weighs as much as one group (alpha_0 = mean of the two groups' word totals): rare words are shrunk towards
    the background, frequent ones speak for themselves. Positive values: used more by ``a``.
    """
    n_a, n_b = counts_a.sum(), counts_b.sum()
    alpha = np.maximum(prior / max(prior.sum(), 1.0) * max((n_a + n_b) / 2.0, 1.0), 1e-3)
    a0 = alpha.sum()
    log_odds_a = np.log((counts_a + alpha) / (n_a + a0 - counts_a - alpha))
    log_odds_b = np.log((counts_b + alpha) / (n_b + a0 - counts_b - alpha))
    delta = log_odds_a - log_odds_b
    variance = 1.0 / (counts_a + alpha) + 1.0 / (counts_b + alpha)
    return delta, delta / np.sqrt(variance)


def word_counts(texts: Sequence[str]) -> tuple[Any, np.ndarray]:
    """(units × words sparse counts, the words) as the contrast words count them; ``None`` counts when no word
    survives the stop-word list."""
    vectorizer = contrast_vectorizer()
    try:
        # read once, in order, a chunk at a time: a UnitColumn cuts each text as it goes
        return count_terms(texts, vectorizer)
    except ValueError:
        return None, np.array([], dtype=object)


def contrast_words(data: ContrastInput, compared: list, top_words: int) -> pd.DataFrame:
    """Per label and pair, the words that separate the two groups (Fightin' Words z-scores) and their units."""
    term_matrix, vocabulary = data.word_counts if data.word_counts is not None else word_counts(data.texts)
    rows = []
    if term_matrix is not None:
        background = np.asarray(term_matrix.sum(axis=0)).ravel()
        for f, a, b, ia, ib in compared:
            ca = np.asarray(term_matrix[ia].sum(axis=0)).ravel()
            cb = np.asarray(term_matrix[ib].sum(axis=0)).ravel()
            delta, z = fightin_words(ca, cb, background)
            present = (ca + cb) > 0
            for side, order in (("a", np.argsort(-z)), ("b", np.argsort(z))):
                chosen = [w for w in order if present[w] and (z[w] > 0 if side == "a" else z[w] < 0)][:top_words]
                members = ia if side == "a" else ib
                columns = term_matrix[members].tocsc()
                for w in chosen:
                    hits = members[columns.indices[columns.indptr[w]:columns.indptr[w + 1]]]
                    rows.append({"framing": f, "group_a": a, "group_b": b, "side": side,
                                 "word": str(vocabulary[w]), "z": round(float(z[w]), 4),
                                 "delta": round(float(delta[w]), 4), "count_a": int(ca[w]), "count_b": int(cb[w]),
                                 "unit_ids": [data.unit_ids[i] for i in hits[:20]]})
    return pd.DataFrame(rows, columns=["framing", "group_a", "group_b", "side", "word", "z", "delta", "count_a",
                                       "count_b", "unit_ids"])
