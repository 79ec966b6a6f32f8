"""Export a fine-tuned checkpoint to the ONNX int8 artifact that ``nlp`` loads.

The graph takes ``input_ids`` and ``attention_mask`` (int64, batch x tokens) and
returns ``pooled`` (the mean-pooled 384-d sentence vector, which the polarity head
reads) and ``logits`` (28 emotion logits).

The graph is quantised to int8 *statically*: weights per output channel on 7 bits
(see :func:`quantize_int8` for why not 8), and the inputs of every weight MatMul
with a fixed scale calibrated (min/max) on sample texts. Dynamic quantisation was
measured too; it scores 0.001 macro-F1 higher on GoEmotions dev but computes each
activation scale over the whole batch, so a text's scores moved by up to 0.6 in
logit with its batch neighbours. With fixed scales a text scores the same alone or
in any batch (see ``BENCHMARKS.md``). The int8 graph is what the thresholds are
tuned on, so the shipped thresholds match the shipped model.
"""

from __future__ import annotations

import logging
import shutil
import warnings
from pathlib import Path
from typing import Any

__all__ = ["export_module", "export_onnx", "quantize_int8", "quantize_weights_int8"]

logger = logging.getLogger(__name__)

OPSET = 17


def export_onnx(
    checkpoint: Path,
    out_dir: Path,
    calibration_texts: list[str],
    *,
    dropout: float = 0.1,
    max_tokens: int = 128,
) -> Path:
    """Write ``model.onnx`` (int8) and ``tokenizer.json`` into out_dir.

    Args:
        checkpoint: A ``best.pt`` state dict written by :func:`training.finetune`.
        out_dir: The artifact folder.
        calibration_texts: Prepared texts whose activations set the int8 ranges.
        dropout: Dropout of the trained model (inactive at export, needed to rebuild).
        max_tokens: Truncation length of the calibration texts.

    Returns:
        The path of the int8 ONNX file.
    """
    import torch

    from nlp.encoder import base_model_dir, load_tokenizer
    from training.finetune import emotion_model_class

    out_dir.mkdir(parents=True, exist_ok=True)
    model = emotion_model_class().from_base(base_model_dir(), dropout=dropout)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu"))
    model.eval()

    fp32_path = out_dir / "model.fp32.onnx"
    _export(model, fp32_path)
    int8_path = out_dir / "model.onnx"
    tokenizer = load_tokenizer(max_tokens=max_tokens)
    quantize_int8(
        fp32_path,
        int8_path,
        [e.ids for e in tokenizer.encode_batch(calibration_texts)],
    )
    fp32_path.unlink()
    shutil.copyfile(base_model_dir() / "tokenizer.json", out_dir / "tokenizer.json")
    logger.info("wrote %s (%.1f MB)", int8_path, int8_path.stat().st_size / 1e6)
    return int8_path


def export_module(module: Any, path: Path, *, output_names: list[str]) -> None:
    """Trace a torch module taking (input_ids, attention_mask) to a float ONNX graph.

    Args:
        module: A ``torch.nn.Module`` in eval mode; its forward takes ``input_ids``
            and ``attention_mask`` (int64, batch x tokens).
        path: The ONNX file to write.
        output_names: Names of the forward's outputs, each with a batch axis first.
    """
    import torch

    example = (torch.ones((2, 8), dtype=torch.long),) * 2
    axes = {name: {0: "batch", 1: "tokens"} for name in ("input_ids", "attention_mask")}
    # The TorchScript exporter is deprecated in favour of torch.export, which does
    # not yet trace the masking code of transformers' BERT; its warnings are noise.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            example,
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=output_names,
            dynamic_axes={**axes, **{name: {0: "batch"} for name in output_names}},
            opset_version=OPSET,
            dynamo=False,
        )


def quantize_weights_int8(fp32_path: Path, int8_path: Path) -> None:
    """Quantise weights to int8 in blocks of 32 and leave the scales of activations
    to each row at run time (onnxruntime's MatMulNBits, accuracy level 4).

    Per-row activation scales keep a text's output independent of its batch, like
    the calibrated graph of :func:`quantize_int8`, without a calibration set; the
    float model is followed much more closely (embedder agreement in BENCHMARKS.md),
    at about float speed.
    """
    import onnx
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        DefaultWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
    )

    config = DefaultWeightOnlyQuantConfig(
        block_size=32,
        is_symmetric=True,
        accuracy_level=4,
        bits=8,
        op_types_to_quantize=("MatMul", "Gather"),
        quant_axes=(("MatMul", 0), ("Gather", 1)),
    )
    quantizer = MatMulNBitsQuantizer(
        onnx.load(str(fp32_path)),
        bits=8,
        block_size=32,
        is_symmetric=True,
        accuracy_level=4,
        algo_config=config,
    )
    quantizer.process()
    model = quantizer.model.model
    _quantize_lookup_tables(model)
    onnx.save(model, str(int8_path))


def _quantize_lookup_tables(model: Any) -> None:
    # The word-embedding table is half of the file and is only looked up, never
    # multiplied: store it as int8 with one scale per row, dequantised once when
    # onnxruntime loads the graph (exact per row, so batch-invariant).
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    tables = {
        node.input[0]
        for node in graph.node
        if node.op_type == "Gather" and "word_embeddings" in node.input[0]
    }
    for init in list(graph.initializer):
        if init.name not in tables:
            continue
        table = numpy_helper.to_array(init).astype(np.float32)
        scale = np.maximum(np.abs(table).max(axis=1), 1e-12) / 127.0
        quantised = np.round(table / scale[:, None]).astype(np.int8)
        graph.initializer.remove(init)
        graph.initializer.extend(
            [
                numpy_helper.from_array(quantised, f"{init.name}_int8"),
                numpy_helper.from_array(scale.astype(np.float32), f"{init.name}_scale"),
                numpy_helper.from_array(
                    np.zeros(len(scale), dtype=np.int8), f"{init.name}_zero"
                ),
            ]
        )
        graph.node.insert(
            0,
            helper.make_node(
                "DequantizeLinear",
                [f"{init.name}_int8", f"{init.name}_scale", f"{init.name}_zero"],
                [init.name],
                axis=0,
            ),
        )


def quantize_int8(
    fp32_path: Path, int8_path: Path, calibration_ids: list[list[int]]
) -> None:
    """Quantise a float encoder graph to int8 with fixed, calibrated scales.

    Weights are quantised per output channel on 7 bits; the inputs of every weight
    MatMul get one scale, calibrated (min/max) on the given texts, so that a text's
    output does not depend on its batch neighbours (see the module docstring).

    Args:
        fp32_path: The float graph from :func:`export_module`.
        int8_path: The quantised graph to write.
        calibration_ids: Word-piece ids of the calibration texts.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    quantize_static(
        str(fp32_path),
        str(int8_path),
        _CalibrationReader(calibration_ids),
        quant_format=QuantFormat.QOperator,
        per_channel=True,
        # Weights on 7 bits, [-64, 64]. On x86 CPUs without VNNI (AVX2, AVX-512
        # without VNNI) onnxruntime's uint8 x int8 kernel adds pairs of products in
        # int16 with saturation (vpmaddubsw): 255 * 127 * 2 overflows 32767 and is
        # clipped, 255 * 64 * 2 = 32640 is not. With 8-bit weights emotion-head.v1
        # computed other numbers on an AVX2 EPYC than on the VNNI machine that built
        # it: 0.34 logit from exact integer arithmetic on average (3.4 at most) over
        # GoEmotions dev, and its thresholds, fitted on the build machine, scored
        # dev macro-F1 0.538 there instead of 0.556. With 7-bit weights every x86
        # kernel sums exactly, so the fitted thresholds hold on any CPU; re-quantised
        # from the same weights (training.requantize), dev macro-F1 on the AVX2
        # machine was 0.554 tuned and 0.525 two-fold, against 0.554 and 0.527 for
        # 8-bit weights there. onnxruntime's quantize_static documentation gives
        # the same advice for CPUs without VNNI.
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_quantize=_weight_nodes(onnx.load(str(fp32_path))),
        calibrate_method=CalibrationMethod.MinMax,
    )


def _export(model: Any, path: Path) -> None:
    export_module(_Exportable(model), path, output_names=["pooled", "logits"])


def _weight_nodes(model: Any) -> list[str]:
    # Only products with a constant weight are quantised (and the word-embedding
    # lookup, which is most of the file); attention's activation-by-activation
    # products stay in float.
    weights = {init.name for init in model.graph.initializer}
    return [
        node.name
        for node in model.graph.node
        if (node.op_type == "MatMul" and any(i in weights for i in node.input))
        or (
            node.op_type == "Gather" and any("word_embeddings" in i for i in node.input)
        )
    ]


class _CalibrationReader:
    """Feeds calibration batches of 16 texts to onnxruntime's calibrator."""

    def __init__(self, ids: list[list[int]], batch_size: int = 16) -> None:
        import numpy as np

        self._batches = []
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            width = max(len(row) for row in chunk)
            input_ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=np.int64)
            for r, row in enumerate(chunk):
                input_ids[r, : len(row)] = row
                mask[r, : len(row)] = 1
            self._batches.append({"input_ids": input_ids, "attention_mask": mask})

        self._next = 0

    def get_next(self) -> dict[str, Any] | None:
        if self._next >= len(self._batches):
            return None
        self._next += 1
        return self._batches[self._next - 1]

    def rewind(self) -> None:
        self._next = 0


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
