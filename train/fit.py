"""train(config) -> checkpoint folder. Reads top to bottom like the recipe it is."""

import os
import random
import shutil
import time
from pathlib import Path

import numpy as np

from data.build import SplitSettings, build_dataset, is_stale, read_split, verify_dataset
from models.base import softmax
from models.checkpoint import write_checkpoint
from models.context import fit_context_layer
from train.config import Config, ContextConfig, DataConfig, resolved
from train.data_io import sentence_positions
from train.distributed import accelerator_or_none, is_main, main_process_first, wait_for_everyone
from train.evaluate import compute_metrics, encode_labels, fit_temperature, reliability_bins
from train.model_card import model_card


def split_settings(data: DataConfig) -> SplitSettings:
    return SplitSettings(
        seed=data.seed,
        dev_fraction=data.dev_fraction,
        test_fraction=data.test_fraction,
        allow_near_duplicates=data.allow_near_duplicates,
    )


def ensure_dataset(data: DataConfig, rebuild: bool = False) -> tuple[Path, dict]:
    """Build the dataset when missing, stale or asked to; always verify it against its manifest."""
    out = Path(data.output)
    settings = split_settings(data)
    inputs = (data.sources, out, settings, data.train_only, data.standoff, data.archives)
    if rebuild or is_stale(*inputs):
        build_dataset(*inputs)
    return out, verify_dataset(out)


def seed_everything(seed: int, threads: int | None) -> None:
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    if threads:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, str(threads))


def default_output(config: Config) -> Path:
    return Path(config.output_dir) / config.name


def _fit_baseline(config: Config, splits: dict):
    from models.baseline import BaselineClassifier

    params = {**config.model.model_dump(mode="json"), "seed": config.seed}
    train_rows = splits["train"]
    return BaselineClassifier(params).fit(
        [r["text"] for r in train_rows], [r["label"] for r in train_rows]
    )


def _score_splits(model, splits: dict, calibrate: bool) -> tuple[dict, dict, dict]:
    """Fit the temperature on dev (never test), then score dev and test before and after;
    also return each split's calibrated probabilities."""
    texts = {s: [r["text"] for r in rows] for s, rows in splits.items() if s != "train" and rows}
    logits = {s: model.logits(split_texts) for s, split_texts in texts.items()}
    labels = {s: [r["label"] for r in splits[s]] for s in logits}
    docs = {s: [r["doc_id"] for r in splits[s]] for s in logits}
    temperature = (
        fit_temperature(logits["dev"], labels["dev"]) if calibrate and "dev" in logits else 1.0
    )
    model.temperature = temperature
    metrics, calibration, probs = {}, {"temperature": temperature, "fitted_on": "dev"}, {}
    for split, split_logits in logits.items():
        before = compute_metrics(labels[split], softmax(split_logits), docs[split])
        after_probs = probs[split] = model.proba_from_logits(split_logits, texts[split])
        metrics[split] = compute_metrics(labels[split], after_probs, docs[split])
        calibration[split] = {
            "ece_before": before["ece"],
            "ece_after": metrics[split]["ece"],
            "log_loss_before": before["log_loss"],
            "log_loss_after": metrics[split]["log_loss"],
            "reliability_after": reliability_bins(after_probs, encode_labels(labels[split])),
        }
    return metrics, calibration, probs


def _fit_context(model, splits: dict, probs: dict, settings: ContextConfig) -> dict:
    """Fit the document-context layer on dev's calibrated probabilities (never test), set it
    on the model, and score every held-out split in context."""
    if "dev" not in probs:
        raise ValueError("context: the dataset has no dev split to fit the layer on")
    positions = {s: sentence_positions(splits[s]) for s in probs}
    if any(p is None for p in positions.values()):
        raise ValueError("context: two rows of a split share (doc_id, index); rebuild the data")
    labels = {s: [r["label"] for r in splits[s]] for s in probs}
    model.context = fit_context_layer(
        probs["dev"],
        positions["dev"],
        encode_labels(labels["dev"]),
        settings.window,
        settings.C,
        settings.document,
    )
    scores = {
        "fitted_on": "dev",
        "window": settings.window,
        "C": settings.C,
        "document": settings.document,
    }
    for split, split_probs in probs.items():
        in_context = model.context.apply(split_probs, positions[split])
        docs = [r["doc_id"] for r in splits[split]]
        scores[split] = compute_metrics(labels[split], in_context, docs)
    return scores


def train(
    config: Config,
    output: str | Path | None = None,
    overwrite: bool = False,
    rebuild_data: bool = False,
    resume: bool = False,
) -> Path:
    """Train the configured model and write a complete checkpoint folder; return its path."""
    out = Path(output) if output else default_output(config)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; pass --overwrite to replace it")
    seed_everything(config.seed, config.threads)
    # Under `accelerate launch` this process is one of several (see train/distributed.py).
    accelerator = accelerator_or_none() if config.model.kind == "transformer" else None
    with main_process_first(accelerator):
        data_dir, manifest = ensure_dataset(config.data, rebuild_data)
    splits = {s: read_split(data_dir, s) for s in ("train", "dev", "test")}

    started = time.perf_counter()
    work_dir = out.with_name(f".{out.name}.work")
    if config.model.kind == "baseline":
        model = _fit_baseline(config, splits)
    else:
        from train.loop import fit_transformer

        model = fit_transformer(config, data_dir, work_dir, resume, accelerator)
    seconds = time.perf_counter() - started
    if not is_main(accelerator):
        wait_for_everyone(accelerator)  # the main process writes the one checkpoint
        return out

    metrics, calibration, probs = _score_splits(model, splits, config.calibrate)
    if config.context is not None:
        metrics["in_context"] = _fit_context(model, splits, probs, config.context)
    metrics["training"] = {
        "seconds": round(seconds, 1),
        "threads": config.threads,
        "processes": accelerator.num_processes if accelerator else 1,
        "history": getattr(model, "training_history", None),
    }
    path = write_checkpoint(
        out,
        kind=config.model.kind,
        save_model=model.save_model,
        config=resolved(config),
        manifest=manifest,
        metrics=metrics,
        calibration=calibration,
        card=model_card(config, manifest, metrics, calibration),
        context=model.context.to_dict() if model.context is not None else None,
        seed=config.seed,
        threads=config.threads,
        overwrite=overwrite,
    )
    shutil.rmtree(work_dir, ignore_errors=True)  # epoch states are only needed until here
    wait_for_everyone(accelerator)
    return path
