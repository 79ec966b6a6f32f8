"""Export a fine-tuned checkpoint to the ONNX int8 artifact that ``nlp`` loads.

The graph takes ``input_ids`` and ``attention_mask`` (int64, batch x tokens) and
returns ``pooled`` (the mean-pooled 384-d sentence vector, which the polarity head
reads) and ``logits`` (28 emotion logits). Weights are quantised to int8 with
onnxruntime's dynamic quantisation, per output channel; the int8 graph is what the
thresholds are tuned on, so the shipped thresholds match the shipped model.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

__all__ = ["export_onnx"]

logger = logging.getLogger(__name__)

OPSET = 17


def export_onnx(checkpoint: Path, out_dir: Path, *, dropout: float = 0.1) -> Path:
    """Write ``model.onnx`` (int8) and ``tokenizer.json`` into out_dir.

    Args:
        checkpoint: A ``best.pt`` state dict written by :func:`training.finetune`.
        out_dir: The artifact folder.
        dropout: Dropout of the trained model (inactive at export, needed to rebuild).

    Returns:
        The path of the int8 ONNX file.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from nlp.encoder import base_model_dir
    from training.finetune import emotion_model_class

    out_dir.mkdir(parents=True, exist_ok=True)
    model = emotion_model_class().from_base(base_model_dir(), dropout=dropout)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()

    fp32_path = out_dir / "model.fp32.onnx"
    example = (
        torch.ones((2, 8), dtype=torch.long),
        torch.ones((2, 8), dtype=torch.long),
    )
    torch.onnx.export(
        _Exportable(model),
        example,
        str(fp32_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["pooled", "logits"],
        dynamic_axes={
            "input_ids": {0: "batch", 1: "tokens"},
            "attention_mask": {0: "batch", 1: "tokens"},
            "pooled": {0: "batch"},
            "logits": {0: "batch"},
        },
        opset_version=OPSET,
        dynamo=False,
    )
    int8_path = out_dir / "model.onnx"
    quantize_dynamic(
        str(fp32_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True
    )
    fp32_path.unlink()
    shutil.copyfile(base_model_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    logger.info("wrote %s (%.1f MB)", int8_path, int8_path.stat().st_size / 1e6)
    return int8_path


class _Exportable:
    """Adapter whose forward returns (pooled, logits) for the ONNX exporter."""

    def __new__(cls, model: Any) -> Any:
        import torch

        class _Module(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                pooled = self.model.pooled(input_ids, attention_mask)
                return pooled, self.model.head(pooled)

        return _Module()
