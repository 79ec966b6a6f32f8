from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_fscore_support

from nlp.labels import CS_VIEW, EKMAN, EMOTIONS, fold_labels
from training.metrics import fit_thresholds, macro_f1, micro_f1, per_label_scores


@pytest.fixture
def multilabel() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y_true = rng.random((300, 6)) < 0.2
    y_pred = rng.random((300, 6)) < 0.25
    y_true[:, 5] = False  # a label with no support
    return y_true, y_pred


def test_f1_functions_match_scikit_learn(multilabel: tuple[np.ndarray, ...]) -> None:
    y_true, y_pred = multilabel
    ours = per_label_scores(y_true, y_pred)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    np.testing.assert_allclose(ours[:, 0], p)
    np.testing.assert_allclose(ours[:, 1], r)
    np.testing.assert_allclose(ours[:, 2], f)
    np.testing.assert_allclose(ours[:, 3], s)
    expected_macro = f1_score(y_true, y_pred, average="macro", zero_division=0)
    expected_micro = f1_score(y_true, y_pred, average="micro", zero_division=0)
    assert macro_f1(y_true, y_pred) == pytest.approx(expected_macro)
    assert micro_f1(y_true, y_pred) == pytest.approx(expected_micro)


def test_fit_thresholds_finds_the_separating_cut() -> None:
    probs = np.array([[0.1], [0.2], [0.6], [0.7]])
    y = np.array([[0], [0], [1], [1]])
    threshold = fit_thresholds(y, probs)[0]
    assert 0.2 < threshold <= 0.6
    assert macro_f1(y, probs >= threshold) == 1.0


def test_fold_labels_is_any_member_for_gold_and_max_for_scores() -> None:
    gold = np.zeros((2, len(EMOTIONS)), dtype=np.int8)
    gold[0, EMOTIONS.index("annoyance")] = 1
    folded = fold_labels(gold)
    assert folded[0, list(CS_VIEW).index("frustration")] == 1
    assert folded[1].sum() == 0
    probs = np.full((1, len(EMOTIONS)), 0.1)
    probs[0, EMOTIONS.index("disgust")] = 0.9
    assert fold_labels(probs)[0, list(CS_VIEW).index("anger")] == pytest.approx(0.9)
    assert fold_labels(probs, EKMAN).shape == (1, len(EKMAN))


@pytest.mark.parametrize("groups", [CS_VIEW, EKMAN])
def test_groupings_name_only_known_labels(groups: dict[str, tuple[str, ...]]) -> None:
    members = [m for group in groups.values() for m in group]
    assert set(members) <= set(EMOTIONS)
    assert len(members) == len(set(members))
