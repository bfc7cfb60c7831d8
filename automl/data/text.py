"""Free text as numbers: TF-IDF of word and character n-grams (scikit-learn's vectorizers), reduced
by a truncated SVD to a few dense columns that every family reads, plus the word count.

A column of descriptions, titles or names has a level per row, so as a category it is almost all
"other": its words are lost. Its n-grams are not: "toyota", "diesel" or "free!!!" recur where the
whole strings never do. The SVD is fitted on the training rows without their targets (as the
category levels are), so the out-of-fold predictions stay honest.
"""
from __future__ import annotations

import numpy as np
from scipy import sparse

# Kept n-grams of each kind (the most frequent, each in at least 2 rows): a bounded vocabulary
# keeps the saved SVD small (components x n-grams floats).
MAX_WORD_NGRAMS = 10_000
MAX_CHAR_NGRAMS = 10_000
# Dense columns per text column.
COMPONENTS = 16
NGRAMS = {"word": ({"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"}, MAX_WORD_NGRAMS),
          "char": ({"analyzer": "char_wb", "ngram_range": (2, 4)}, MAX_CHAR_NGRAMS)}
COMMON = {"lowercase": True, "sublinear_tf": True, "dtype": np.float32}


class TextColumn:
    """One text column's n-gram vocabularies, their IDF weights and the SVD's components."""

    def fit(self, texts: list[str | None]) -> "TextColumn":
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        documents = _documents(texts)
        self.kinds_, self.vocabularies_, self.idf_, blocks = [], [], [], []
        for kind, (settings, limit) in NGRAMS.items():
            vectorizer = TfidfVectorizer(**settings, **COMMON, min_df=2, max_features=limit)
            try:
                blocks.append(vectorizer.fit_transform(documents))
            except ValueError:  # no n-gram in two rows (tiny or empty column): this kind adds nothing
                continue
            self.kinds_.append(kind)
            self.vocabularies_.append({str(k): int(v) for k, v in vectorizer.vocabulary_.items()})
            self.idf_.append(vectorizer.idf_.astype(np.float32))
        if not blocks:
            self.components_ = np.zeros((0, 0), np.float32)
            return self
        matrix = sparse.hstack(blocks).tocsr()
        n_components = max(1, min(COMPONENTS, matrix.shape[1] - 1, matrix.shape[0] - 1))
        svd = TruncatedSVD(n_components=n_components, random_state=0).fit(matrix)
        self.components_ = svd.components_.astype(np.float32)
        return self

    @property
    def names(self) -> list[str]:
        """Suffixes of the columns ``transform`` returns."""
        return ["words"] + [f"svd{i}" for i in range(self.components_.shape[0])]

    def transform(self, texts: list[str | None]) -> np.ndarray:
        """(rows, 1 + components) float32: the word count (NaN where missing), then the SVD."""
        documents = _documents(texts)
        words = np.array([np.nan if t is None else len(t.split()) for t in texts], dtype=np.float32)
        if not self.kinds_:
            return words[:, None]
        if "_vectorizers" not in self.__dict__:  # built once: a vectorizer's set-up was ~1 ms of a single row
            self._vectorizers = [self._vectorizer(NGRAMS[kind][0], vocabulary, idf)
                                 for kind, vocabulary, idf in zip(self.kinds_, self.vocabularies_, self.idf_)]
        blocks = [vectorizer.transform(documents) for vectorizer in self._vectorizers]
        reduced = np.asarray(sparse.hstack(blocks).tocsr() @ self.components_.T, dtype=np.float32)
        return np.column_stack([words, reduced])

    @staticmethod
    def _vectorizer(settings: dict, vocabulary: dict, idf: np.ndarray):
        """A vectorizer with a known vocabulary and IDF weights (fitted, without a fit)."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(**settings, **COMMON, vocabulary=vocabulary)
        vectorizer.idf_ = idf
        return vectorizer

    def get_state(self) -> dict:
        return {"kinds": self.kinds_, "vocabularies": self.vocabularies_, "idf": list(self.idf_),
                "components": self.components_}

    @classmethod
    def from_state(cls, state: dict) -> "TextColumn":
        column = cls()
        column.kinds_ = list(state["kinds"])
        column.vocabularies_ = [dict(v) for v in state["vocabularies"]]
        column.idf_ = [np.asarray(idf, dtype=np.float32) for idf in state["idf"]]
        column.components_ = np.asarray(state["components"], dtype=np.float32)
        return column


def _documents(texts: list[str | None]) -> list[str]:
    return ["" if t is None else t for t in texts]
