"""The TF-IDF weighting of bot/nlu/classifiers.py, checked against scikit-learn's own transformer."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

pytest.importorskip("rasa")

from sklearn.feature_extraction.text import TfidfTransformer  # noqa: E402

from bot.nlu.classifiers import TunedLogisticRegressionClassifier, smoothed_idf, tfidf_rows  # noqa: E402


def _idf(counts: np.ndarray) -> np.ndarray:
    n = counts.shape[0]
    df = (counts > 0).sum(axis=0)
    return np.log((1.0 + n) / (1.0 + df)) + 1.0


def test_tfidf_rows_match_sklearns_sublinear_tfidf_times_the_scale():
    counts = np.array([[3, 0, 1, 0], [0, 2, 0, 0], [1, 1, 1, 5], [0, 0, 0, 1]], dtype=float)
    expected = TfidfTransformer(sublinear_tf=True).fit(counts).transform(counts).toarray() * 3.0
    got = tfidf_rows(csr_matrix(counts), _idf(counts), 3.0).toarray()
    assert np.allclose(got, expected)


def test_smoothed_idf_is_sklearns():
    counts = np.array([[3, 0, 1, 0], [0, 2, 0, 0], [1, 1, 1, 5], [0, 0, 0, 1]], dtype=float)
    assert np.allclose(smoothed_idf(csr_matrix(counts)), TfidfTransformer().fit(counts).idf_)
    assert np.allclose(smoothed_idf(csr_matrix(counts)), _idf(counts))


def test_a_long_message_weighs_no_more_than_a_short_one():
    idf = np.ones(3)
    short = tfidf_rows(csr_matrix([[1.0, 0.0, 0.0]]), idf, 3.0)
    long = tfidf_rows(csr_matrix([[40.0, 25.0, 9.0]]), idf, 3.0)
    assert np.isclose(np.linalg.norm(short.toarray()), 3.0)
    assert np.isclose(np.linalg.norm(long.toarray()), 3.0)


def test_the_norm_floor_keeps_a_one_word_fragment_light():
    idf = np.ones(3)
    fragment = tfidf_rows(csr_matrix([[1.0, 0.0, 0.0]]), idf, 3.0, floor=2.0)
    question = tfidf_rows(csr_matrix([[3.0, 2.0, 5.0]]), idf, 3.0, floor=2.0)
    assert np.isclose(np.linalg.norm(fragment.toarray()), 1.5)  # 1 / max(1, 2) * 3
    norm = np.linalg.norm(1.0 + np.log([3.0, 2.0, 5.0]))
    assert norm > 2.0 and np.isclose(np.linalg.norm(question.toarray()), 3.0)


def test_an_empty_row_stays_empty():
    assert tfidf_rows(csr_matrix((1, 4)), np.ones(4), 3.0).nnz == 0
    assert tfidf_rows(csr_matrix((1, 4)), np.ones(4), 3.0, floor=2.0).nnz == 0


def test_unknown_weighting_is_refused(tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    config = {**TunedLogisticRegressionClassifier.get_default_config(), "weighting": "bm25"}
    with pytest.raises(ValueError, match="weighting"):
        TunedLogisticRegressionClassifier(config, "clf", LocalModelStorage(tmp_path), Resource("clf"))
