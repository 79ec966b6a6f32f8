"""Compare float32, dynamic int8 and static int8 graphs of one checkpoint.

Run:  .venv/bin/python bench/bench_quantization.py training/runs/emotions-v1/epoch1.pt

Exports the checkpoint to ONNX, quantises it both ways, scores GoEmotions dev with
each graph (one thread, batches of 64 sorted by length), and prints macro-F1 with
thresholds tuned on dev, macro-F1 at 0.5, texts per second, and the largest logit
gap between the first 100 dev texts scored alone and inside their sorted batches.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic

from nlp.encoder import load_tokenizer
from nlp.text import prepare_for_model
from training.data import read_goemotions, shared_data_dir
from training.export import _CalibrationReader, _export, _weight_nodes
from training.metrics import fit_thresholds, macro_f1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    args = parser.parse_args()

    import torch
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        quantize_static,
    )

    from nlp.encoder import base_model_dir
    from training.finetune import emotion_model_class

    out = Path(tempfile.mkdtemp())
    model = emotion_model_class().from_base(base_model_dir())
    model.load_state_dict(torch.load(args.checkpoint, map_location="cpu"))
    model.eval()
    _export(model, out / "fp32.onnx")
    quantize_dynamic(
        str(out / "fp32.onnx"),
        str(out / "dyn.onnx"),
        weight_type=QuantType.QInt8,
        per_channel=True,
    )
    tokenizer = load_tokenizer()
    train = read_goemotions(shared_data_dir() / "goemotions" / "train.tsv").texts
    calibration = [
        e.ids
        for e in tokenizer.encode_batch([prepare_for_model(t) for t in train[:512]])
    ]
    quantize_static(
        str(out / "fp32.onnx"),
        str(out / "static.onnx"),
        _CalibrationReader(calibration),
        quant_format=QuantFormat.QOperator,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul", "Gather"],
        nodes_to_quantize=_weight_nodes(onnx.load(str(out / "fp32.onnx"))),
        calibrate_method=CalibrationMethod.MinMax,
    )

    dev = read_goemotions(shared_data_dir() / "goemotions" / "dev.tsv")
    ids = [
        e.ids for e in tokenizer.encode_batch([prepare_for_model(t) for t in dev.texts])
    ]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    for name in ("fp32", "dyn", "static"):
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(
            str(out / f"{name}.onnx"), options, providers=["CPUExecutionProvider"]
        )
        logits = np.zeros((len(ids), 28), dtype=np.float32)
        started = time.perf_counter()
        for k in range(0, len(order), 64):
            index = order[k : k + 64]
            reader = _CalibrationReader([ids[i] for i in index], batch_size=64)
            logits[index] = session.run(["logits"], reader.get_next())[0]
        rate = len(ids) / (time.perf_counter() - started)
        # The first 100 dev texts scored alone, against their batched logits.
        alone = np.vstack(
            [
                session.run(
                    ["logits"], _CalibrationReader([ids[i]], batch_size=1).get_next()
                )[0]
                for i in range(100)
            ]
        )
        gap = float(np.abs(alone - logits[:100]).max())
        probs = 1 / (1 + np.exp(-logits))
        tuned = macro_f1(dev.y, probs >= fit_thresholds(dev.y, probs))
        print(
            f"{name}: {rate:.0f} texts/s, macro-F1 tuned {tuned:.4f}, "
            f"at 0.5 {macro_f1(dev.y, probs >= 0.5):.4f}, "
            f"max logit gap alone vs batched {gap:.1e}"
        )


if __name__ == "__main__":
    main()
