"""Questions -> unit vectors for the knowledge-gap grouping, on this machine with no network.

Two methods, compared on a labelled set by `make bench-gaps` (figures and
the choice in docs/decisions/0003-knowledge-gap-grouping.md):
- `wordllama`: WordLlama's 256-dimension token embeddings, averaged; the
  weights and tokenizer ship inside the PyPI wheel, loaded from its package
  folder with downloads disabled;
- `char-ngrams`: scikit-learn's HashingVectorizer over character 3-5-grams
  within words (no fitting, so a vector never changes as questions arrive),
  robust to typos by construction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache

import numpy as np

MAX_QUESTION_CHARS = 500  # the rest of a very long question adds little to what it is about
Vectorize = Callable[[list[str]], np.ndarray]


@cache
def _wordllama():
    import wordllama
    from wordllama import WordLlama

    return WordLlama.load(cache_dir=os.path.dirname(wordllama.__file__), disable_download=True)


def wordllama_vectors(texts: list[str]) -> np.ndarray:
    model = _wordllama()
    vectors = np.asarray(model.embed([t[:MAX_QUESTION_CHARS] for t in texts], norm=True), dtype=np.float32)
    return vectors


@cache
def _hashing():
    from sklearn.feature_extraction.text import HashingVectorizer

    return HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=2 ** 14, alternate_sign=False,
                             norm="l2", lowercase=True)


def char_ngram_vectors(texts: list[str]) -> np.ndarray:
    return _hashing().transform([t[:MAX_QUESTION_CHARS] for t in texts]).toarray().astype(np.float32)


METHODS: dict[str, tuple[Vectorize, int]] = {
    "wordllama": (wordllama_vectors, 256),
    "char-ngrams": (char_ngram_vectors, 2 ** 14),
}
