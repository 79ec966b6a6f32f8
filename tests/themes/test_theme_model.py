"""The theme pipeline on precomputed embeddings: invariants and edge cases.

Embeddings are blobs from scikit-learn; labels use :class:`RegexTerms`, so no
spaCy pipeline or encoder is loaded here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from nlp.errors import InputError
from nlp.themes import (
    CTfidfLabeler,
    RegexTerms,
    ThemeModel,
    is_stop_word,
    load_theme_model,
    match_themes,
    save_theme_model,
)

_TOPICS = ["billing invoice", "login password", "export csv", "slow dashboard"]


def _corpus(n: int = 200, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    x, y = make_blobs(
        n_samples=n, centers=4, n_features=24, cluster_std=0.6, random_state=seed
    )
    texts = [f"{_TOPICS[c]} problem {i}" for i, c in enumerate(y)]
    return texts, x.astype(np.float32), y


def _model(**options: Any) -> ThemeModel:
    return ThemeModel(labeler=CTfidfLabeler(RegexTerms()), **options)


def test_theme_model_recovers_blobs() -> None:
    texts, x, y = _corpus()
    model = _model().fit(texts, x)
    from sklearn.metrics import adjusted_rand_score

    assert model.status_ == "themed"
    assert len(model.themes_) == 4
    assert adjusted_rand_score(y, model.labels_) > 0.95
    assert [t.size for t in model.themes_] == sorted(
        (t.size for t in model.themes_), reverse=True
    )
    assert sum(t.size for t in model.themes_) + np.sum(model.labels_ == -1) == 200


def test_theme_model_labels_name_the_topic_and_are_never_stop_words() -> None:
    texts, x, y = _corpus()
    model = _model().fit(texts, x)
    for theme in model.themes_:
        members = np.flatnonzero(model.labels_ == theme.theme_id)
        topic = _TOPICS[np.bincount(y[members]).argmax()]
        assert theme.label
        assert not all(is_stop_word(w) for w in theme.label.replace(",", "").split())
        assert set(topic.split()) & set(theme.label.replace(",", "").split())
        assert len(theme.representative_texts) == 3


def test_theme_model_is_deterministic_for_a_seed() -> None:
    texts, x, _ = _corpus()
    first = _model(seed=3).fit(texts, x)
    second = _model(seed=3).fit(texts, x)
    np.testing.assert_array_equal(first.labels_, second.labels_)
    assert [t.label for t in first.themes_] == [t.label for t in second.themes_]


def test_theme_model_transform_is_batch_invariant() -> None:
    texts, x, _ = _corpus()
    model = _model().fit(texts[:150], x[:150])
    new_texts, new_x = texts[150:], x[150:]
    together = model.transform(new_texts, embeddings=new_x)
    alone = [
        model.transform([t], embeddings=new_x[i : i + 1])[0]
        for i, t in enumerate(new_texts)
    ]
    shuffled = np.random.default_rng(0).permutation(len(new_texts))
    mixed = model.transform(
        [new_texts[i] for i in shuffled], embeddings=new_x[shuffled]
    )
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(together[shuffled], mixed)
    np.testing.assert_array_equal(model.transform(embeddings=new_x), together)


def test_theme_model_transform_keeps_fitted_themes_for_known_texts() -> None:
    texts, x, _ = _corpus()
    model = _model().fit(texts, x)
    np.testing.assert_array_equal(model.transform(texts[:20]), model.labels_[:20])


def test_theme_model_duplicates_share_a_theme() -> None:
    texts, x, _ = _corpus()
    texts = [*texts, texts[0], texts[0], texts[5]]
    x = np.vstack([x, x[7], x[9], x[5]])  # other vectors: the text decides
    model = _model().fit(texts, x)
    assert model.labels_[-3] == model.labels_[-2] == model.labels_[0]
    assert model.labels_[-1] == model.labels_[5]


def test_theme_model_samples_above_the_threshold_and_assigns_the_rest() -> None:
    texts, x, y = _corpus(400)
    model = _model(sample_size=120).fit(texts, x)
    from sklearn.metrics import adjusted_rand_score

    assert len(model.themes_) == 4
    assert adjusted_rand_score(y, model.labels_) > 0.9


def test_theme_model_labels_from_the_clustered_sample_only() -> None:
    texts, x, _ = _corpus(400)
    seen: list[str] = []

    class Recording(RegexTerms):
        def __call__(self, texts: list[str]) -> list[list[str]]:
            seen.extend(texts)
            return super().__call__(texts)

    model = ThemeModel(labeler=CTfidfLabeler(Recording()), sample_size=120)
    model.fit(texts, x)

    assert 0 < len(seen) <= 120  # the labeller's cost is that of the sample
    assert sum(t.size for t in model.themes_) > 300  # the rest is still assigned


def test_theme_model_reduce_outliers_moves_close_outliers() -> None:
    texts, x, _ = _corpus()
    noise = x[:5] + 0.5  # near theme members, but too few to form a theme
    model = _model().fit(
        [*texts, *[f"odd {i}" for i in range(5)]], np.vstack([x, noise])
    )
    before = model.outlier_share_
    labels = model.reduce_outliers(threshold=-1.0)
    assert model.outlier_share_ == 0.0 <= before
    assert sum(t.size for t in model.themes_) == len(labels)


def test_match_themes_pairs_refits_and_leaves_new_themes_unmatched() -> None:
    texts, x, _ = _corpus()
    old = _model().fit(texts, x).themes_
    keep = np.flatnonzero(_model().fit(texts, x).labels_ != 0)
    new = _model().fit([texts[i] for i in keep], x[keep]).themes_
    matches = match_themes(old, new)
    assert len(matches) == 3
    assert all(m.similarity > 0.99 for m in matches)
    assert match_themes(old, []) == []


@pytest.mark.parametrize("n", [0, 1, 2, 9])
def test_theme_model_small_corpora_give_a_clear_status(n: int) -> None:
    texts, x, _ = _corpus()
    model = _model().fit(texts[:n], x[:n])
    assert model.status_ == ("no_text" if n == 0 else "too_few_texts")
    assert model.themes_ == []
    assert model.labels_.tolist() == [-1] * n
    assert model.transform(texts[:2], embeddings=x[:2]).tolist() == [-1, -1]


def test_theme_model_all_empty_texts_are_outliers() -> None:
    model = _model().fit(["", "  ", "\n"] * 5, np.ones((15, 8)))
    assert model.status_ == "no_text"
    assert model.outlier_share_ == 1.0


def test_theme_model_600_copies_of_one_sentence_are_one_theme() -> None:
    text = "The export keeps failing every night."
    model = _model().fit([text] * 600, np.tile(np.arange(8.0), (600, 1)))
    assert model.status_ == "themed"
    assert [t.size for t in model.themes_] == [600]
    assert set(model.labels_.tolist()) == {0}
    assert model.themes_[0].representative_texts == (text,)
    assert "export" in model.themes_[0].label


def test_theme_model_stop_word_texts_get_a_label_that_is_not_stop_words() -> None:
    texts = ["the and", "of the", "and the"] * 10
    x = np.tile(np.arange(8.0), (30, 1)) + np.arange(30)[:, None] * 1e-3
    model = _model(min_cluster_size=5).fit(texts, x)
    assert model.status_ == "themed"
    for theme in model.themes_:
        assert theme.label.startswith("untitled theme ")


def test_theme_model_short_thanks_texts_are_themed_with_their_words() -> None:
    texts = ["ok", "thanks", "ok thanks"] * 10
    x = np.tile(np.arange(8.0), (30, 1)) + np.arange(30)[:, None] * 1e-3
    model = _model(min_cluster_size=5).fit(texts, x)
    labels = " ".join(t.label for t in model.themes_)
    assert "thanks" in labels or "ok" in labels


def test_theme_model_min_cluster_size_one_is_refused() -> None:
    texts, x, _ = _corpus()
    with pytest.raises(InputError) as info:
        _model(min_cluster_size=1).fit(texts, x)
    assert (info.value.field, info.value.code) == ("min_cluster_size", "out_of_range")
    assert str(info.value) == (
        "expected min_cluster_size to be an integer of at least 2, got 1; "
        "a theme needs two texts or more"
    )


def test_theme_model_min_cluster_size_above_the_corpus_finds_no_themes() -> None:
    texts, x, _ = _corpus(50)
    model = _model(min_cluster_size=51).fit(texts, x)
    assert model.status_ == "too_few_texts"
    assert model.outlier_share_ == 1.0


@pytest.mark.parametrize(
    ("texts", "embeddings", "field", "code"),
    [
        (["a", None], np.ones((2, 4)), "texts[1]", "invalid_type"),
        (["a", "b"], np.ones((3, 4)), "embeddings", "shape_mismatch"),
        (["a", "b"], np.array([[1.0, np.nan], [1.0, 2.0]]), "embeddings", "not_finite"),
        ("a single string", None, "texts", "invalid_type"),
        (["a", "b"], None, "embeddings", "missing"),
    ],
)
def test_theme_model_bad_input_names_the_field(
    texts: object, embeddings: object, field: str, code: str
) -> None:
    with pytest.raises(InputError) as info:
        _model().fit(texts, embeddings)  # type: ignore[arg-type]
    assert (info.value.field, info.value.code) == (field, code)


def test_theme_model_transform_before_fit_is_a_clear_error() -> None:
    with pytest.raises(InputError) as info:
        _model().transform(["hello"])
    assert info.value.code == "not_fitted"


def test_theme_model_from_centroids_assigns_as_the_fitted_model_does() -> None:
    texts, x, _ = _corpus(300)
    fitted = _model().fit(texts[:200], x[:200])
    restored = ThemeModel.from_centroids([t.centroid for t in fitted.themes_])
    new_texts, new_x = texts[200:], x[200:]
    expected = fitted.transform(new_texts, embeddings=new_x)
    np.testing.assert_array_equal(
        restored.transform(new_texts, embeddings=new_x), expected
    )
    assert (expected >= 0).mean() > 0.9  # the check is not vacuous
    alone = [restored.transform(embeddings=new_x[i : i + 1])[0] for i in range(5)]
    np.testing.assert_array_equal(alone, expected[:5])


def test_theme_model_from_centroids_checks_its_input() -> None:
    with pytest.raises(InputError) as info:
        ThemeModel.from_centroids([[1.0, np.nan]])
    assert (info.value.field, info.value.code) == ("centroids", "not_finite")
    with pytest.raises(InputError) as info:
        ThemeModel.from_centroids([[1.0, 0.0]], assign_threshold=2.0)
    assert info.value.field == "assign_threshold"

    restored = ThemeModel.from_centroids([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(InputError) as info:
        restored.transform(embeddings=np.ones((1, 3)))
    assert (info.value.field, info.value.code) == ("embeddings", "shape_mismatch")
    with pytest.raises(InputError) as info:
        restored.reduce_outliers()
    assert info.value.code == "not_fitted"
    assert restored.transform(["x"], embeddings=[[0.9, 0.1]]).tolist() == [0]
    assert restored.transform(["  "], embeddings=[[0.9, 0.1]]).tolist() == [-1]


def test_nearest_theme_is_the_same_in_blocks_as_row_by_row() -> None:
    from nlp.themes._vectors import nearest_ids

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(20_000, 16)).astype(np.float32)
    centroids = rng.normal(size=(7, 16))
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    together = nearest_ids(vectors, centroids, 0.2)
    rows = [
        nearest_ids(vectors[i : i + 1], centroids, 0.2)[0]
        for i in range(0, 20_000, 997)
    ]
    np.testing.assert_array_equal(together[::997], rows)
    assert 0 < (together == -1).mean() < 1


def test_theme_model_keeps_a_dominant_theme_whole() -> None:
    # The cluster-size cap splits a dominant blob; near-identical parts merge back.
    x, y = make_blobs(
        n_samples=[900, 100], n_features=24, cluster_std=0.6, random_state=0
    )
    texts = [f"{_TOPICS[c]} problem {i}" for i, c in enumerate(y)]
    model = _model().fit(texts, x.astype(np.float32))
    assert [t.size for t in model.themes_] == [900, 100]


def test_hdbscan_clusterer_caps_the_share_of_one_cluster() -> None:
    from nlp.themes import HDBSCANClusterer

    # Two tight groups inside one loose region: uncapped, "eom" may keep the
    # region; capped at half, no cluster may hold more than half of the points.
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(0, 0.05, (60, 2)), rng.normal(0.4, 0.05, (60, 2))])
    points = np.vstack([points, rng.normal(0.2, 0.3, (20, 2))])
    labels = HDBSCANClusterer(10, max_cluster_share=0.5).fit_predict(points)
    sizes = np.bincount(labels[labels >= 0])
    assert len(sizes) >= 2
    assert sizes.max() <= len(points) // 2


_SMALL_CORPUS = {
    "billing": [
        "I was charged twice on my invoice this month",
        "The invoice shows the wrong amount for our plan",
        "Why did my credit card get billed again?",
        "Please refund the duplicate charge on our account",
        "Our billing statement lists seats we never bought",
        "The monthly invoice total is higher than the quote",
    ],
    "login": [
        "I can't log in, the password reset email never arrives",
        "Login fails with an invalid password error",
        "Two-factor code is rejected when I sign in",
        "My account is locked after entering the password",
        "Single sign-on keeps sending me back to the login page",
        "How do I reset my password? The link expired",
    ],
    "export": [
        "Exporting the report to CSV produces an empty file",
        "The Excel export drops half of the columns",
        "CSV download of the dashboard times out",
        "Can I export all tickets to a spreadsheet?",
        "The PDF export cuts off the chart",
        "Exported CSV has broken characters in names",
    ],
}


def test_theme_model_finds_themes_in_a_few_dozen_real_texts() -> None:
    from sklearn.metrics import adjusted_rand_score

    from nlp.embeddings import Embedder

    texts = [t for group in _SMALL_CORPUS.values() for t in group]
    gold = [name for name, group in _SMALL_CORPUS.items() for _ in group]
    model = ThemeModel(embedder=Embedder.load(), min_cluster_size=3).fit(texts)
    assert model.status_ == "themed"
    assert adjusted_rand_score(gold, model.labels_) >= 0.8


def test_theme_model_counts_copies_toward_the_minimum_cluster_size() -> None:
    # 4 topics of 4 distinct texts, each sent 3 times: 12 texts a topic, but only
    # 4 distinct points each for the clusterer.
    centers = np.eye(4, 24, dtype=np.float32) * 5
    rng = np.random.default_rng(0)
    texts, rows = [], []
    for topic, center in zip(_TOPICS, centers, strict=True):
        for variant in range(4):
            point = center + rng.normal(scale=0.3, size=24).astype(np.float32)
            for _ in range(3):
                texts.append(f"{topic} problem {variant}")
                rows.append(point)
    model = _model(min_cluster_size=10).fit(texts, np.vstack(rows))

    assert model.status_ == "themed"
    assert sorted(t.size for t in model.themes_) == [12, 12, 12, 12]
    assert len({model.labels_[i] for i in range(0, 48, 12)}) == 4


def test_two_themes_never_share_a_label() -> None:
    groups = [["good", "good!"], ["good", "Good."], ["the and"], ["of the"]]
    labeler = CTfidfLabeler(analyzer=RegexTerms()).fit(
        groups,
        weights=[np.ones(len(g)) for g in groups],
        similarities=[np.ones(len(g)) for g in groups],
    )
    assert labeler.labels_ == [
        "good",
        "good (theme 1)",
        "untitled theme 2",
        "untitled theme 3",
    ]


def test_a_repeated_label_is_told_apart_by_the_theme_s_own_terms() -> None:
    same = ["email order refund", "email order refund late", "email order"]
    groups = [["invoice wrong", "invoice total"], same, list(same)]
    labeler = CTfidfLabeler(analyzer=RegexTerms()).fit(
        groups,
        weights=[np.ones(len(g)) for g in groups],
        similarities=[np.ones(len(g)) for g in groups],
    )
    _, second, third = labeler.labels_
    assert third != second and third.startswith(second + ", ")
    assert "(theme" not in third


def test_a_corpus_about_one_thing_is_one_theme_not_noise() -> None:
    rng = np.random.default_rng(0)
    centre = rng.normal(size=24)
    tight = centre + rng.normal(scale=0.05, size=(12, 24))
    texts = [f"the invoice export failed again ({i})" for i in range(12)]
    model = _model(min_cluster_size=5).fit(texts, tight.astype(np.float32))
    assert model.status_ == "themed"
    assert model.labels_.tolist() == [0] * 12
    assert model.themes_[0].label.startswith(("invoice", "export", "failed"))

    scattered = rng.normal(size=(12, 24)).astype(np.float32)
    unrelated = _model(min_cluster_size=5).fit(texts, scattered)
    assert unrelated.status_ == "no_themes"


def test_a_saved_model_assigns_as_the_fitted_one(tmp_path: Path) -> None:
    texts, x, _ = _corpus()
    model = _model().fit(texts, x)
    path = tmp_path / "themes.json"
    save_theme_model(model, path, embedder_version="embedder.v1")
    loaded = load_theme_model(path, embedder=None, embedder_version="embedder.v1")

    new, new_x, _ = _corpus(n=60, seed=3)
    new = [f"{text} (new)" for text in new]  # not texts of the fit, known to it
    assigned = loaded.transform(new, embeddings=new_x).tolist()
    assert assigned == model.transform(new, embeddings=new_x).tolist()
    assert [(t.theme_id, t.label, t.terms, t.size) for t in loaded.themes_] == [
        (t.theme_id, t.label, t.terms, t.size) for t in model.themes_
    ]
    assert all(t.representative_texts == () for t in loaded.themes_)
    assert not any(text in path.read_text() for text in texts)  # no text is kept


def test_a_theme_model_file_is_checked(tmp_path: Path) -> None:
    texts, x, _ = _corpus()
    path = tmp_path / "themes.json"
    save_theme_model(_model().fit(texts, x), path, embedder_version="embedder.v1")
    saved = json.loads(path.read_text())

    def refused(data: object, version: str = "embedder.v1") -> str:
        path.write_text(json.dumps(data))
        with pytest.raises(InputError) as caught:
            load_theme_model(path, embedder=None, embedder_version=version)
        assert (caught.value.field, caught.value.code) == (
            "themes",
            "invalid_theme_model",
        )
        return str(caught.value)

    assert "fitted with embedder 'embedder.v1', but this one is 'embedder.v2'" in (
        refused(saved, "embedder.v2")
    )
    assert "expected format" in refused({"format": "x"})
    assert "expected format" in refused([1, 2])
    broken = json.loads(json.dumps(saved))
    broken["themes"][1]["centroid"] = broken["themes"][1]["centroid"][:3]
    assert "theme 1: expected a centroid of 24 numbers as theme 0's, got 3" in (
        refused(broken)
    )
    broken = json.loads(json.dumps(saved))
    broken["themes"][0]["label"] = None
    assert "theme 0: expected a label" in refused(broken)
    broken = json.loads(json.dumps(saved))
    broken["themes"][0]["centroid"] = [0.0] * 24
    assert "theme 0: a centroid of zeros points nowhere" in refused(broken)
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(saved).encode())  # a BOM is fine
    assert load_theme_model(path, embedder=None, embedder_version="embedder.v1")
    broken = json.loads(json.dumps(saved))
    broken["themes"] = []
    assert "it holds no theme" in refused(broken)
    path.write_text("{not json")
    with pytest.raises(InputError, match="not a theme model file"):
        load_theme_model(path, embedder=None, embedder_version="embedder.v1")
