"""Re-quantise an int8 emotion artifact from its own weights, without the checkpoint.

The int8 graph is all that ships; the float checkpoint it came from may be gone. The
weights it holds are still exact: ``(q - zero_point) * scale``. So a new int8 graph
can be made from an old one:

1. dequantise: rebuild a float graph whose weights are exactly the dequantised int8
   weights, and whose activations are no longer quantised
   (:func:`dequantize_model`);
2. quantise that float graph again with :func:`training.export.quantize_int8`, on
   the same calibration texts as a full build (``training.emotions``);
3. score GoEmotions dev with the new graph and refit the per-label and CS
   thresholds on it, as a full build does; the polarity head is kept as it is.

The round trip is exact where it can be: dequantising emotion-head.v1 and quantising
it again with its own 8-bit setting gave back all 37 integer weight tensors bit for
bit. With the 7-bit weights of :func:`training.export.quantize_int8` the weights
are rounded once more, to a grid half as fine; on GoEmotions dev that re-quantised
graph scored as the 8-bit one did (figures in ``training.export``).

The polarity head reads the encoder's outputs, which move a little with the new
graph; refit it separately (``training.polarity``) before shipping.

Run:  python -m training.requantize nlp/models/emotion-head.v1 /tmp/emotion-head-rr
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.errors import ConfigError

__all__ = ["RequantizeConfig", "dequantize_model", "main", "requantize_artifact"]

logger = logging.getLogger(__name__)


@dataclass
class RequantizeConfig:
    """Options of a re-quantisation; written into the new ``meta.json``."""

    source: str
    out_dir: str
    dev_path: str = ""
    calibration_short: int = 384
    calibration_long: int = 128


def requantize_artifact(
    config: RequantizeConfig, *, calibration: list[str] | None = None
) -> dict[str, Any]:
    """Write a copy of an emotion artifact with a re-quantised graph and refitted
    thresholds; return the dev metrics written into its ``meta.json``.

    Args:
        config: The source artifact, the output folder (created; it must not be
            the source), the dev set and the calibration sizes of a full build.
        calibration: Prepared texts that set the int8 ranges; by default those of
            a full build (:func:`training.emotions.calibration_texts`).

    Returns:
        The ``metrics.dev`` block of the new ``meta.json``.
    """
    source, out_dir = Path(config.source), Path(config.out_dir)
    if out_dir.resolve() == source.resolve():
        raise ConfigError(
            f"out_dir must differ from the source artifact, got {str(out_dir)!r} "
            "for both; write to a new folder and swap it in once checked"
        )
    started = time.perf_counter()

    # 1. Copy the folder; dequantise its graph beside the copy.
    shutil.copytree(source, out_dir, dirs_exist_ok=True)
    fp32_path = out_dir / "model.fp32.onnx"
    dequantize_model(source / "model.onnx", fp32_path)

    # 2. Quantise again, calibrated on the texts of a full build.
    _quantize(fp32_path, out_dir / "model.onnx", config, calibration)
    fp32_path.unlink()

    # 3. Thresholds and dev metrics of the new graph.
    dev = _refit_thresholds(out_dir, config)
    logger.info(
        "re-quantised %s into %s in %.0f s",
        source,
        out_dir,
        time.perf_counter() - started,
    )
    return dev


def dequantize_model(int8_path: Path, fp32_path: Path) -> None:
    """Write a float graph whose weights are the int8 graph's, dequantised exactly.

    Every weight stored as integers becomes a float initializer
    ``(q - zero_point) * scale`` (float32, as onnxruntime's DequantizeLinear computes
    it); ``QLinearMatMul`` becomes ``MatMul`` and a quantised ``Gather`` a float one;
    the QuantizeLinear / DequantizeLinear pairs around activations are dropped. Both
    layouts of onnxruntime's quantiser are handled (QOperator and QDQ).

    Args:
        int8_path: The quantised graph.
        fp32_path: The float graph to write.

    Raises:
        ConfigError: If the graph holds a quantised operator this does not know.
    """
    import onnx

    model = onnx.load(str(int8_path))
    _Dequantizer(model.graph).run()
    onnx.checker.check_model(model)
    onnx.save(model, str(fp32_path))


class _Dequantizer:
    """Rewrites one quantised ONNX graph in place to float (see dequantize_model)."""

    def __init__(self, graph: Any) -> None:
        from onnx import numpy_helper

        self._graph = graph
        self._arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
        self._outputs = {o.name for o in graph.output}
        # The float tensor that stands for each integer tensor of the old graph.
        self._float: dict[str, str] = {}
        self._new_arrays: dict[str, np.ndarray] = {}

    def run(self) -> None:
        from onnx import numpy_helper

        nodes = []
        for node in self._graph.node:
            nodes.extend(self._rewrite(node))
        for node in nodes:
            node.input[:] = [self._float.get(name, name) for name in node.input]
        del self._graph.node[:]
        self._graph.node.extend(nodes)
        del self._graph.value_info[:]

        # Keep only the initializers that some node still reads.
        used = {name for node in nodes for name in node.input}
        kept = [i for i in self._graph.initializer if i.name in used]
        added = [
            numpy_helper.from_array(array, name)
            for name, array in self._new_arrays.items()
        ]
        del self._graph.initializer[:]
        self._graph.initializer.extend(kept + added)

    def _rewrite(self, node: Any) -> list[Any]:
        from onnx import helper

        op = node.op_type
        if op == "QuantizeLinear":
            # An activation quantised for the next integer op: read the float.
            self._float[node.output[0]] = self._source(node.input[0])
            return []
        if op == "DequantizeLinear":
            return self._dequantize(node)
        if op == "QLinearMatMul":
            a = self._source(node.input[0])
            b = self._weight(node.input[3], node.input[4], node.input[5], axis=-1)
            out = node.output[0] + "_float"
            self._float[node.output[0]] = out
            name = node.name.removesuffix("_quant")
            return [helper.make_node("MatMul", [a, b], [out], name=name)]
        if op == "Gather" and _is_integer(self._arrays.get(node.input[0])):
            # A quantised lookup table; its DequantizeLinear follows the Gather.
            table = node.input[0]
            scale, zero = _quant_params(table)
            b = self._weight(table, scale, zero, axis=None)
            out = node.output[0] + "_float"
            self._float[node.output[0]] = out
            name = node.name.removesuffix("_quant")
            return [helper.make_node("Gather", [b, node.input[1]], [out], name=name)]
        if op.startswith("QLinear") or op in {"MatMulInteger", "ConvInteger"}:
            raise ConfigError(
                f"cannot dequantise node {node.name!r}: operator {op} is not "
                "supported; expected QLinearMatMul, quantised Gather or "
                "QuantizeLinear/DequantizeLinear pairs"
            )
        return [node]

    def _dequantize(self, node: Any) -> list[Any]:
        from onnx import helper

        source, output = node.input[0], node.output[0]
        if source in self._arrays:
            # A QDQ weight: fold it into a float initializer.
            axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
            zero = node.input[2] if len(node.input) > 2 else ""
            name = self._weight(source, node.input[1], zero, axis=axis)
        else:
            name = self._source(source)
        if output in self._outputs:
            return [helper.make_node("Identity", [name], [output])]
        self._float[output] = name
        return []

    def _source(self, name: str) -> str:
        return self._float.get(name, name)

    def _weight(
        self, q_name: str, scale_name: str, zero_name: str, *, axis: Any
    ) -> str:
        name = q_name.removesuffix("_quantized")
        if name in self._arrays:
            name = q_name + "_dequantized"
        if name not in self._new_arrays:
            q = self._arrays[q_name]
            scale = self._arrays[scale_name].astype(np.float32)
            zero = self._arrays[zero_name] if zero_name else np.zeros(1, q.dtype)
            self._new_arrays[name] = _dequantize_array(q, scale, zero, axis=axis)
        self._float[q_name] = name
        return name


def _dequantize_array(
    q: np.ndarray, scale: np.ndarray, zero: np.ndarray, *, axis: int | None
) -> np.ndarray:
    # (q - zero_point) * scale in float32, as ONNX DequantizeLinear defines it; a
    # 1-D scale runs along `axis` (the output channel), a scalar one is per tensor.
    shape = [1] * q.ndim
    if scale.ndim == 1 and scale.size > 1:
        if axis is None:
            raise ConfigError(
                f"expected one scale for a lookup table, got {scale.size} scales"
            )
        shape[axis] = scale.size
    elif scale.size != 1:
        raise ConfigError(
            f"expected a scalar or 1-D scale, got shape {scale.shape}; block-wise "
            "quantisation is not supported"
        )
    shifted = q.astype(np.int32) - zero.astype(np.int32).reshape(shape)
    weight: np.ndarray = shifted.astype(np.float32) * scale.reshape(shape)
    return weight


def _is_integer(array: np.ndarray | None) -> bool:
    return array is not None and array.dtype in (np.int8, np.uint8)


def _quant_params(q_name: str) -> tuple[str, str]:
    # onnxruntime's quantiser names a quantised table `<w>_quantized` and stores
    # its parameters as `<w>_scale` and `<w>_zero_point`.
    base = q_name.removesuffix("_quantized")
    return f"{base}_scale", f"{base}_zero_point"


def _quantize(
    fp32_path: Path,
    int8_path: Path,
    config: RequantizeConfig,
    calibration: list[str] | None,
) -> None:
    from nlp.encoder import load_tokenizer
    from training.emotions import BuildConfig, calibration_texts
    from training.export import quantize_int8

    if calibration is None:
        build = BuildConfig(
            calibration_short=config.calibration_short,
            calibration_long=config.calibration_long,
        )
        calibration = calibration_texts(build)
    meta = json.loads((Path(config.source) / "meta.json").read_text())
    tokenizer = load_tokenizer(max_tokens=int(meta["max_tokens"]))
    ids = [e.ids for e in tokenizer.encode_batch(calibration)]
    quantize_int8(fp32_path, int8_path, ids)
    logger.info("calibrated on %d texts", len(ids))


def _refit_thresholds(out_dir: Path, config: RequantizeConfig) -> dict[str, Any]:
    # Step 3 of training.emotions.build_artifact, on the new graph.
    from nlp.artifact import load_artifact
    from nlp.emotions import EmotionModel
    from nlp.labels import CS_VIEW, EMOTIONS, fold_labels
    from nlp.text import prepare_for_model
    from training.data import read_goemotions
    from training.emotions import _dev_metrics
    from training.finetune import FinetuneConfig
    from training.metrics import fit_thresholds

    dev = read_goemotions(Path(config.dev_path or FinetuneConfig().dev_path))
    model = EmotionModel(load_artifact(out_dir))
    probs = model.encode([prepare_for_model(t) for t in dev.texts]).probs
    thresholds = fit_thresholds(dev.y, probs)
    cs_gold, cs_probs = fold_labels(dev.y), fold_labels(probs)
    cs_thresholds = fit_thresholds(cs_gold, cs_probs)
    metrics = _dev_metrics(dev.y, probs, thresholds, cs_gold, cs_probs, cs_thresholds)

    meta_path = out_dir / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["thresholds"] = dict(zip(EMOTIONS, thresholds.round(2).tolist(), strict=True))
    meta["cs_thresholds"] = dict(
        zip(CS_VIEW, cs_thresholds.round(2).tolist(), strict=True)
    )
    meta["metrics"]["dev"] = metrics
    meta["training"]["requantize"] = asdict(config)
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    return metrics


def main() -> None:
    """Command line: ``python -m training.requantize SOURCE OUT_DIR``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="The int8 artifact folder.")
    parser.add_argument("out_dir", type=Path, help="The new artifact folder.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    config = RequantizeConfig(source=str(args.source), out_dir=str(args.out_dir))
    print(json.dumps(requantize_artifact(config), indent=1))


if __name__ == "__main__":
    main()
