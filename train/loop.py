"""Fine-tuning loop for the transformer: readable top to bottom, resumable per epoch.

Per epoch: length-bucketed shuffled batches (dynamic padding), AdamW with linear warm-up and
decay, optional class weights, then dev macro-F1; the best state is kept and training stops
after `patience` epochs without improvement. After every epoch the full state (weights,
optimizer, scheduler, RNG, history) is written to `<work>/epoch-NNN` atomically, so `--resume`
continues from the last complete epoch and reaches the same weights as an uninterrupted run.

When the embeddings and the lower `model.freeze_layers` layers are frozen (and the head is the
mean-pooling one), their output never changes: each sentence's token states under the first
trained layer are computed once, before epoch 1, and every step (and every dev score) runs only
the layers above: about a quarter less time per step for MiniLM with 3 of 6 layers frozen, and
the frozen layers act as a fixed feature extractor (no dropout), which on our data also learned
faster.
"""

import functools
import hashlib
import json
import os
import random
import shutil
import sys
from pathlib import Path

import numpy as np

from data.build import load_splits, read_manifest
from data.labels import LABEL_TO_ID, LABELS
from models.transformer import (
    TransformerClassifier,
    length_sorted_batches,
    load_encoder,
    padded_ids,
    resolve_base,
)
from train.config import Config
from train.distributed import is_main, main_process_first, shard, wait_for_everyone

STATE_FILE = "state.json"
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)
DONE = "DONE"


# ---- data ----


def tokenize_batch(batch: dict, tokenizer, max_length: int) -> dict:
    """datasets.map function: token ids truncated to max_length, label ids in schema order."""
    enc = tokenizer(batch["text"], truncation=True, max_length=max_length)
    return {"input_ids": enc["input_ids"], "label_id": [LABEL_TO_ID[x] for x in batch["label"]]}


def tokenized_splits(data_dir: Path, tokenizer, max_length: int, tokenizer_id: str):
    """The built splits tokenised with `datasets.map`, cached as Arrow next to the dataset.

    The cache fingerprint is named explicitly from the dataset fingerprint, the tokenizer and
    max_length, so it is stable across runs (hashing a tokenizer object is not)."""
    splits = load_splits(data_dir)
    fingerprint = read_manifest(data_dir)["fingerprint"][:16]
    return {
        name: ds.map(
            tokenize_batch,
            batched=True,
            fn_kwargs={"tokenizer": tokenizer, "max_length": max_length},
            remove_columns=[c for c in ds.column_names if c not in ("label", "doc_id")],
            new_fingerprint=f"tok-{fingerprint}-{name}-{tokenizer_id}-{max_length}",
            desc=f"tokenising {name}",
        )
        for name, ds in splits.items()
    }


def tokenizer_fingerprint(folder: Path) -> str:
    """A hash of the tokenizer files, so a changed vocabulary never reuses a stale cache."""
    digest = hashlib.sha256()
    for name in sorted(TOKENIZER_FILES):
        path = folder / name
        if path.is_file():
            digest.update(name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def epoch_batches(lengths: list[int], batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """Shuffled batches of similar length: shuffle, sort within chunks of 50 batches, shuffle
    the batches. Depends only on (seed, epoch), so a resumed run sees the same batches."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def class_weights(label_ids: list[int]):
    """Inverse-frequency weights, normalised to mean 1 (a label absent from train gets 1)."""
    import torch

    counts = np.bincount(label_ids, minlength=len(LABELS)).astype(float)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / len(LABELS), 1.0)
    return torch.tensor(weights / weights.mean(), dtype=torch.float32)


def cached_layers(model, cfg) -> int:
    """How many lower layers training may compute once instead of every epoch: all the frozen
    ones, when the embeddings below them are frozen too and the head can start above them."""
    from models.pooling import MeanPoolingClassifier

    frozen_below = cfg.freeze_embeddings and cfg.freeze_layers > 0
    return cfg.freeze_layers if frozen_below and isinstance(model, MeanPoolingClassifier) else 0


def lower_layer_states(
    model, tokenizer, ids: list[list[int]], layers: int, batch_size: int, quiet: bool = True
):
    """Per sentence, its token states under the first trained layer, as a [tokens, hidden]
    tensor. Frozen layers give the same states every epoch, so they are run once (in eval mode:
    a fixed feature extractor, without dropout)."""
    import torch
    from tqdm.auto import tqdm

    model.eval()
    states = [None] * len(ids)
    batches = length_sorted_batches([len(x) for x in ids], batch_size)
    with torch.no_grad():  # not inference_mode: these tensors feed layers that train
        for batch in tqdm(batches, desc=f"layers 1-{layers} (frozen)", disable=quiet):
            enc = padded_ids(tokenizer, [ids[i] for i in batch], model.device)
            out = model.lower_states(enc["input_ids"], enc["attention_mask"], layers)
            for row, i in enumerate(batch):
                states[i] = out[row, : len(ids[i])].clone()
    return states


def cached_inputs(states: list, device, from_layer: int) -> dict:
    """The model's inputs for a batch of cached token states: zero-padded, with their attention
    mask and the layer to start from."""
    import torch

    lengths = torch.tensor([len(s) for s in states])
    padded = torch.nn.utils.rnn.pad_sequence(states, batch_first=True)
    mask = (torch.arange(padded.shape[1])[None, :] < lengths[:, None]).long()
    return {
        "states": padded.to(device),
        "attention_mask": mask.to(device),
        "from_layer": from_layer,
    }


# ---- state on disk ----


def _save_state(
    work: Path, epoch: int, model, optimizer, scheduler, state: dict, best_state: dict | None
) -> None:
    """Everything needed to continue after `epoch`, written to a temp folder then renamed."""
    import torch
    from safetensors.torch import save_file

    final = work / f"epoch-{epoch:03d}"
    tmp = work / f".epoch-{epoch:03d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file(
        {k: v.contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors"
    )
    if best_state is not None:
        save_file(best_state, tmp / "best.safetensors")
    opt = optimizer.state_dict()
    tensors = {f"{i}.{k}": v for i, s in opt["state"].items() for k, v in s.items()}
    tensors["rng.torch"] = torch.get_rng_state()
    save_file(tensors, tmp / "optimizer.safetensors")
    state = {
        **state,
        "epoch": epoch,
        "param_groups": opt["param_groups"],
        "scheduler": scheduler.state_dict(),
        "python_rng": repr(random.getstate()),
    }
    (tmp / STATE_FILE).write_text(json.dumps(state, default=float))
    (tmp / DONE).write_text("ok\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in work.glob("epoch-*"):  # keep only the newest complete epoch
        if old != final:
            shutil.rmtree(old, ignore_errors=True)


def last_complete_epoch(work: Path) -> Path | None:
    done = sorted(p for p in work.glob("epoch-*") if (p / DONE).is_file())
    return done[-1] if done else None


def _load_state(folder: Path, model, optimizer, scheduler) -> tuple[dict, dict | None]:
    import torch
    from safetensors.torch import load_file

    model.load_state_dict(load_file(folder / "model.safetensors"))
    state = json.loads((folder / STATE_FILE).read_text())
    tensors = load_file(folder / "optimizer.safetensors")
    torch.set_rng_state(tensors.pop("rng.torch"))
    opt_state: dict = {}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        opt_state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": opt_state, "param_groups": state["param_groups"]})
    scheduler.load_state_dict(state["scheduler"])
    best = folder / "best.safetensors"
    return state, load_file(best) if best.is_file() else None


# ---- the loop ----


def _dev_macro_f1(classifier: TransformerClassifier, dev_items, dev_labels, to_inputs) -> float:
    """Dev macro-F1 from the same kind of per-sentence inputs that training reads."""
    from sklearn.metrics import f1_score

    predicted = classifier.logits_from_inputs(list(dev_items), to_inputs).argmax(1)
    return float(
        f1_score(
            dev_labels,
            predicted,
            labels=list(range(len(LABELS))),
            average="macro",
            zero_division=0,
        )
    )


def fit_transformer(
    config: Config,
    data_dir: Path,
    work_dir: Path,
    resume: bool = False,
    accelerator=None,
) -> TransformerClassifier:
    """Fine-tune the configured encoder; with an `accelerator` (several processes), each process
    trains on its shard of every batch and only the main process writes epoch states."""
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    cfg, tcfg = config.model, config.train
    rank = accelerator.process_index if accelerator else 0
    world = accelerator.num_processes if accelerator else 1
    torch.manual_seed(config.seed)
    random.seed(config.seed)
    threads = max(1, config.threads // world) if config.threads else None
    if threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)

    base = resolve_base(cfg.base)
    model, tokenizer = load_encoder(base, dropout=cfg.dropout, pooling=cfg.pooling)
    if cfg.freeze_embeddings:
        # The embedding matrix is half the parameters of a small encoder; freezing it roughly
        # halves the optimizer's work on CPU and loses little when fine-tuning on a few
        # thousand sentences.
        for p in model.base_model.embeddings.parameters():
            p.requires_grad = False
    layers = model.base_model.encoder.layer
    if cfg.freeze_layers > len(layers):
        raise ValueError(f"model.freeze_layers={cfg.freeze_layers}, but {base} has {len(layers)}")
    for layer in layers[: cfg.freeze_layers]:
        for p in layer.parameters():
            p.requires_grad = False
    with main_process_first(accelerator):
        splits = tokenized_splits(data_dir, tokenizer, cfg.max_length, tokenizer_fingerprint(base))
    train_ids, train_y = splits["train"]["input_ids"], splits["train"]["label_id"]
    dev_ids, dev_y = splits["dev"]["input_ids"], splits["dev"]["label_id"]
    lengths = [len(x) for x in train_ids]
    from_layer = cached_layers(model, cfg)
    quiet = not sys.stderr.isatty() or not is_main(accelerator)
    # What one sentence is to the model: its token ids, or its cached token states under the
    # first trained layer; `to_inputs(batch, device)` makes a batch of either.
    train_items, dev_items = train_ids, dev_ids
    to_inputs = functools.partial(padded_ids, tokenizer)
    if from_layer:
        size = tcfg.eval_batch_size
        train_items = lower_layer_states(model, tokenizer, train_ids, from_layer, size, quiet)
        dev_items = lower_layer_states(model, tokenizer, dev_ids, from_layer, size, quiet)
        to_inputs = functools.partial(cached_inputs, from_layer=from_layer)

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=tcfg.learning_rate, weight_decay=tcfg.weight_decay)
    steps_per_epoch = -(-len(train_ids) // tcfg.batch_size)
    total = steps_per_epoch * tcfg.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(tcfg.warmup_ratio * total), total)
    weights = class_weights(train_y) if tcfg.class_weights else torch.ones(len(LABELS))
    # Summed here and divided by the whole batch's weight below: the weighted mean over a global
    # batch, however the batch is sharded across processes.
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights, reduction="sum")
    classifier = TransformerClassifier(
        model, tokenizer, cfg.max_length, tcfg.eval_batch_size, threads
    )
    trained = accelerator.prepare_model(model) if accelerator else model
    device = accelerator.device if accelerator else torch.device("cpu")
    loss_fn.to(device)

    state = {"history": [], "best_f1": -1.0, "best_epoch": 0, "bad_epochs": 0}
    best_state = None
    start_epoch = 1
    checkpoint = last_complete_epoch(work_dir) if resume else None
    if checkpoint is not None:
        state, best_state = _load_state(checkpoint, model, optimizer, scheduler)
        start_epoch = state["epoch"] + 1
        print(f"resuming after epoch {state['epoch']} from {checkpoint}", file=sys.stderr)
    elif work_dir.exists() and is_main(accelerator):
        shutil.rmtree(work_dir)
    wait_for_everyone(accelerator)
    work_dir.mkdir(parents=True, exist_ok=True)

    for epoch in range(start_epoch, tcfg.epochs + 1):
        if state["bad_epochs"] >= tcfg.patience:
            break
        model.train()
        batches = epoch_batches(lengths, tcfg.batch_size, config.seed, epoch)
        bar = tqdm(batches, desc=f"epoch {epoch}/{tcfg.epochs}", disable=quiet, leave=False)
        running = 0.0
        for step, batch in enumerate(bar, start=1):
            mine = shard(batch, rank, world)
            # A process whose shard is empty (a final batch smaller than the world) still takes
            # part in the gradient exchange, with one sentence counted zero times.
            scale = world / weights[[train_y[i] for i in batch]].sum() if mine else 0.0
            mine = mine or batch[:1]
            enc = to_inputs([train_items[i] for i in mine], device)
            target = torch.tensor([train_y[i] for i in mine], device=device)
            loss = loss_fn(trained(**enc).logits, target) * scale
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, tcfg.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            running += (accelerator.reduce(loss.detach(), "mean") if accelerator else loss).item()
            bar.set_postfix(loss=f"{running / step:.4f}")
        dev_f1 = _dev_macro_f1(classifier, dev_items, dev_y, to_inputs)
        state["history"].append(
            {"epoch": epoch, "train_loss": running / len(batches), "dev_macro_f1": dev_f1}
        )
        if dev_f1 > state["best_f1"]:
            state.update(best_f1=dev_f1, best_epoch=epoch, bad_epochs=0)
            best_state = {
                k: v.detach().clone().contiguous() for k, v in model.state_dict().items()
            }
        else:
            state["bad_epochs"] += 1
        if is_main(accelerator):
            print(
                f"epoch {epoch}: train loss {running / len(batches):.4f}  dev macro-F1 "
                f"{dev_f1:.4f}  (best {state['best_f1']:.4f} @ {state['best_epoch']})",
                file=sys.stderr,
            )
            _save_state(work_dir, epoch, model, optimizer, scheduler, state, best_state)
        wait_for_everyone(accelerator)

    if best_state is not None:
        model.load_state_dict(best_state)
    classifier.training_history = state["history"]
    return classifier
