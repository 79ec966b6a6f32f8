"""The packaged int8 sentence embedder: shape, unit length, batch invariance."""

from __future__ import annotations

import numpy as np
import pytest

from nlp.embeddings import Embedder
from nlp.errors import InputError

TEXTS = [
    "I am still waiting on my card",
    "",
    "The nightly CSV export failed again and nobody told us why. " * 20,
    "How do I change my PIN?",
    "Thanks!",
]


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder.load(threads=1)


def test_embedder_returns_unit_vectors_in_input_order(embedder: Embedder) -> None:
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (5, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    similar = vectors[0] @ embedder.embed(["Where is my card? It has not arrived"])[0]
    assert similar > vectors[0] @ vectors[3]


def test_embedder_is_batch_invariant(embedder: Embedder) -> None:
    together = embedder.embed(TEXTS)
    alone = np.vstack([embedder.embed([t]) for t in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_embedder_refuses_a_non_string(embedder: Embedder) -> None:
    with pytest.raises(InputError) as info:
        embedder.embed(["fine", 3])  # type: ignore[list-item]
    assert (info.value.field, info.value.code) == ("texts[1]", "invalid_type")
