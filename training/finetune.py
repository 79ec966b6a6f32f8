"""Fine-tune the packaged MiniLM body into a 28-label emotion classifier.

The model is the MiniLM encoder, mean pooling over tokens, dropout and one linear
layer with a sigmoid per label (multi-label, never softmax). The loss is binary
cross-entropy with a per-label positive weight of sqrt(negatives / positives), capped,
so that rare labels such as grief and relief are not drowned by neutral.

Batches are drawn from length-sorted chunks so that little compute goes to padding,
which roughly halves an epoch on two CPU cores. Each epoch ends with a dev pass; the
epoch with the best tuned-threshold dev macro-F1 is kept as ``best.pt``.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.text import prepare_for_model
from training.data import read_goemotions, shared_data_dir
from training.metrics import fit_thresholds, macro_f1

__all__ = ["FinetuneConfig", "emotion_model_class", "finetune", "predict_probs"]

logger = logging.getLogger(__name__)


@dataclass
class FinetuneConfig:
    """Options of one fine-tuning run; written beside the checkpoint it produces."""

    train_path: str = str(shared_data_dir() / "goemotions" / "train.tsv")
    dev_path: str = str(shared_data_dir() / "goemotions" / "dev.tsv")
    epochs: int = 3
    batch_size: int = 32
    body_lr: float = 8e-5
    head_lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_share: float = 0.06
    dropout: float = 0.1
    max_tokens: int = 128
    pos_weight_cap: float = 8.0
    seed: int = 13
    threads: int = 2
    limit: int | None = None


def finetune(config: FinetuneConfig, out_dir: Path) -> dict[str, Any]:
    """Train the classifier and write ``best.pt`` and ``finetune.json`` to out_dir.

    Args:
        config: The run's options.
        out_dir: Folder for the checkpoint, the config and per-epoch metrics.

    Returns:
        The per-epoch dev metrics and the best epoch.
    """
    import torch

    from nlp.encoder import base_model_dir, load_tokenizer

    torch.manual_seed(config.seed)
    random.seed(config.seed)
    torch.set_num_threads(config.threads)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Data: encode once, keep token ids as Python lists for cheap batching.
    tokenizer = load_tokenizer(max_tokens=config.max_tokens)
    train = read_goemotions(Path(config.train_path))
    dev = read_goemotions(Path(config.dev_path))
    n_train = config.limit or len(train.texts)
    train_ids = _encode(tokenizer, train.texts[:n_train])
    train_y = torch.tensor(train.y[:n_train], dtype=torch.float32)
    dev_ids = _encode(tokenizer, dev.texts)
    logger.info("encoded %d train and %d dev texts", len(train_ids), len(dev_ids))

    # Model, loss and optimiser.
    model = emotion_model_class().from_base(base_model_dir(), dropout=config.dropout)
    positives = train_y.sum(0).clamp(min=1.0)
    pos_weight = ((len(train_y) - positives) / positives).sqrt()
    loss_fn = torch.nn.BCEWithLogitsLoss(
        pos_weight=pos_weight.clamp(max=config.pos_weight_cap)
    )
    optimiser = torch.optim.AdamW(
        [
            {"params": model.body.parameters(), "lr": config.body_lr},
            {"params": model.head.parameters(), "lr": config.head_lr},
        ],
        weight_decay=config.weight_decay,
    )
    steps = config.epochs * math.ceil(len(train_ids) / config.batch_size)
    schedule = _linear_schedule(optimiser, steps, config.warmup_share)

    history: list[dict[str, Any]] = []
    best = -1.0
    for epoch in range(1, config.epochs + 1):
        started = time.perf_counter()
        model.train()
        total = 0.0
        batches = list(
            _length_batches(train_ids, config.batch_size, config.seed + epoch)
        )
        for step, index in enumerate(batches, start=1):
            input_ids, mask = _pad([train_ids[i] for i in index])
            logits = model(input_ids, mask)
            loss = loss_fn(logits, train_y[index])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            total += loss.item()
            if step % 200 == 0:
                logger.info(
                    "epoch %d step %d/%d loss %.4f",
                    epoch,
                    step,
                    len(batches),
                    total / step,
                )

        # Dev pass: F1 at 0.5 and with per-label thresholds fitted on dev.
        probs = predict_probs(model, dev_ids)
        thresholds = fit_thresholds(dev.y, probs)
        record = {
            "epoch": epoch,
            "train_loss": total / len(batches),
            "dev_macro_f1_at_0.5": macro_f1(dev.y, probs >= 0.5),
            "dev_macro_f1_tuned": macro_f1(dev.y, probs >= thresholds),
            "seconds": time.perf_counter() - started,
        }
        history.append(record)
        logger.info("epoch %d: %s", epoch, json.dumps(record))
        if record["dev_macro_f1_tuned"] > best:
            best = record["dev_macro_f1_tuned"]
            torch.save(model.state_dict(), out_dir / "best.pt")
        torch.save(model.state_dict(), out_dir / f"epoch{epoch}.pt")

    summary = {"config": asdict(config), "history": history, "best_dev": best}
    (out_dir / "finetune.json").write_text(json.dumps(summary, indent=2))
    return summary


def predict_probs(model: Any, ids: list[list[int]], *, batch_size: int = 128) -> Any:
    """Return the sigmoid outputs of ``model`` for pre-tokenised texts, in order."""
    import torch

    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), model.head.out_features), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            input_ids, mask = _pad([ids[i] for i in index])
            out[index] = torch.sigmoid(model(input_ids, mask)).numpy()
    return out


def _build_model_class() -> Any:
    import torch
    from transformers import AutoModel

    class _EmotionModel(torch.nn.Module):
        """MiniLM body, mean pooling, dropout, linear head with 28 logits."""

        def __init__(self, body: Any, n_labels: int, dropout: float) -> None:
            super().__init__()
            self.body = body
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(body.config.hidden_size, n_labels)

        @classmethod
        def from_base(cls, path: Path, *, dropout: float = 0.1) -> _EmotionModel:
            from nlp.labels import EMOTIONS

            return cls(AutoModel.from_pretrained(str(path)), len(EMOTIONS), dropout)

        def pooled(self, input_ids: Any, mask: Any) -> Any:
            hidden = self.body(input_ids=input_ids, attention_mask=mask)[0]
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)

        def forward(self, input_ids: Any, mask: Any) -> Any:
            return self.head(self.dropout(self.pooled(input_ids, mask)))

    return _EmotionModel


@functools.cache
def emotion_model_class() -> Any:
    """Return the torch module class of the classifier (built on first use, so that
    importing this module does not import torch)."""
    return _build_model_class()


def _encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    encodings = tokenizer.encode_batch([prepare_for_model(t) for t in texts])
    return [e.ids for e in encodings]


def _pad(batch: list[list[int]]) -> tuple[Any, Any]:
    import torch

    width = max(len(ids) for ids in batch)
    input_ids = torch.zeros((len(batch), width), dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, ids in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        mask[row, : len(ids)] = 1
    return input_ids, mask


def _length_batches(
    ids: list[list[int]], batch_size: int, seed: int
) -> Iterator[list[int]]:
    # Shuffle, sort by length inside chunks of 50 batches, then shuffle the batches:
    # batches hold texts of similar length but their order stays random.
    rng = random.Random(seed)
    order = list(range(len(ids)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: len(ids[i]))
        batches.extend(
            part[i : i + batch_size] for i in range(0, len(part), batch_size)
        )
    rng.shuffle(batches)
    yield from batches


def _linear_schedule(optimiser: Any, steps: int, warmup_share: float) -> Any:
    import torch

    warmup = max(1, int(steps * warmup_share))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (steps - step) / max(1, steps - warmup))

    return torch.optim.lr_scheduler.LambdaLR(optimiser, factor)
