"""Tiny models built inside tests: a BERT of a few thousand parameters and its own vocabulary."""

import re
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_tiny_bert(folder: Path, texts: list[str], hidden: int = 16, layers: int = 1) -> Path:
    """Write a randomly initialised BERT (1 layer unless told) and a word-level vocabulary made
    from `texts`."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    torch.manual_seed(0)  # the random initialisation is part of what the tests assert on

    words = sorted({w for t in texts for w in re.findall(r"\w+|[^\w\s]", t.lower())})
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(SPECIAL + words)}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=True)
    config = BertConfig(
        vocab_size=len(SPECIAL) + len(words),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=40,
        num_labels=5,
    )
    BertForSequenceClassification(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_transformer_setup(tmp_path: Path, layers: int = 1) -> tuple[Path, Path]:
    """A tiny annotated corpus and a tiny BERT whose vocabulary covers it."""
    from tests.conftest import TINY_ARTICLES, variant, write_article

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = []
    for k in range(6):
        for doc_id, lines in TINY_ARTICLES.items():
            v = variant(lines, k)
            write_article(corpus, f"{doc_id}-{k}", v)
            texts += [t for _, t in v]
    return corpus, make_tiny_bert(tmp_path / "bert", texts, hidden=32, layers=layers)


def tiny_transformer_config(corpus: Path, bert: Path, tmp_path: Path, **train) -> dict:
    """A raw config that trains the tiny BERT fast and deterministically (one thread)."""
    return {
        "name": "tiny-bert",
        "threads": 1,
        "data": {"sources": [str(corpus)], "output": str(tmp_path / "ds")},
        "model": {
            "kind": "transformer",
            "base": str(bert),
            "max_length": 32,
            "freeze_embeddings": False,
            "dropout": 0.0,
        },
        "train": {
            "epochs": 80,
            "batch_size": 16,
            "learning_rate": 0.005,
            "warmup_ratio": 0.0,
            "patience": 80,
            "eval_batch_size": 16,
            **train,
        },
    }


def freeze_lower_layer(raw: dict) -> dict:
    """The raw config with the embeddings and the first layer frozen, so training runs the
    layers above on token states computed once (a 2-layer tiny BERT)."""
    raw["model"].update(freeze_embeddings=True, freeze_layers=1)
    return raw


def checkpoint_tensors(checkpoint: Path) -> dict:
    """Every trained tensor of a transformer checkpoint: the encoder and, when mean-pooled,
    the classification head saved beside it."""
    from safetensors.torch import load_file

    tensors = load_file(checkpoint / "model" / "model.safetensors")
    head = checkpoint / "model" / "head.safetensors"
    if head.is_file():
        tensors.update({f"head.{k}": v for k, v in load_file(head).items()})
    return tensors
