"""The model card written into every checkpoint as README.md."""

import os
from pathlib import Path

import yaml

from data.labels import LABELS, SCHEMA_VERSION
from train.config import Config
from train.evaluate import metrics_table, summary_line

INTENDED_USE = """\
## Intended use
Labelling sentences of English news about negotiations (trade, sanctions, ceasefires, labour,
diplomacy, corporate and debt talks) as claim, threat, demand, concession or other, to count and
find negotiation moves across many articles. Scores are calibrated on the dev split with a
single temperature (and, where documents are known and the model has a context layer, by that
layer, also fitted on dev); treat them as probabilities for ranking and thresholds, not as
certainty.

## Known limits
- Trained on an original corpus written for parley; real news differs in style, and the
  realnews-dev figures (when present below) are the honest estimate of quality on real text.
- One label per sentence: a sentence with several acts gets the strongest by the spec's
  precedence (threat > concession > demand > claim > other).
- English only; text that is mostly not English is out of domain.
- The label depends on who speaks: an unattributed assertion is `other`, an attributed one
  `claim`; sentences cut out of their article lose that context (`predict` reads each
  sentence alone; give documents to `classify_article` or `predict_in_context`).
"""


def model_card(config: Config, manifest: dict, metrics: dict, calibration: dict) -> str:
    lines = [
        f"# parley model: {config.name}",
        "",
        f"Kind: **{config.model.kind}**. Labels (schema {SCHEMA_VERSION}, column order): "
        + ", ".join(f"`{lab}`" for lab in LABELS)
        + ".",
        "",
        "## Data",
        f"- dataset fingerprint: `{manifest['fingerprint']}`",
        f"- segmenter: {manifest['segmenter']}",
        "- sentences per split: "
        + ", ".join(f"{s} {sum(c.values())}" for s, c in manifest["counts"].items()),
        "- articles per split: " + ", ".join(f"{s} {n}" for s, n in manifest["articles"].items()),
        "",
        "## Config",
        "```yaml",
        yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False).rstrip(),
        "```",
        "",
    ]
    for split, m in ((s, m) for s, m in metrics.items() if s in ("dev", "test")):
        lines += [f"## Scores on {split}", "", summary_line(m), "", metrics_table(m), ""]
    lines += [
        "## Calibration",
        "",
        f"Temperature {calibration['temperature']:.3f}, fitted on dev.",
        "",
    ]
    for split, c in calibration.items():
        if isinstance(c, dict):
            lines.append(
                f"- {split}: ECE {c['ece_before']:.4f} -> {c['ece_after']:.4f}, "
                f"log-loss {c['log_loss_before']:.4f} -> {c['log_loss_after']:.4f}"
            )
    context = metrics.get("in_context")
    if context:
        lines += [
            "",
            "## Document context",
            "",
            f"A context layer (window {context['window']}, C {context['C']}) re-scores each "
            "sentence with the probabilities of its neighbours"
            + (
                " and of its document's other sentences, and its place in the document,"
                if context.get("document")
                else ""
            )
            + " when the document is known "
            "(`predict_in_context`, `classify_article`, `parley evaluate` on data with `doc_id`). "
            "It was fitted on dev, so the dev figure is optimistic.",
            "",
        ]
        for split in ("dev", "test"):
            if split in context:
                alone = metrics[split]["macro_f1"]
                lines.append(
                    f"- {split}: macro-F1 {context[split]['macro_f1']:.4f} in context, "
                    f"{alone:.4f} sentence by sentence; ECE {context[split]['ece']:.4f}"
                )
    training = metrics.get("training", {})
    if training:
        lines += [
            "",
            "## Training",
            "",
            f"{training['seconds']} s on {training['threads']} threads.",
        ]
        for h in training.get("history") or []:
            lines.append(
                f"- epoch {h['epoch']}: train loss {h['train_loss']:.4f}, dev macro-F1 "
                f"{h['dev_macro_f1']:.4f}"
            )
    lines += ["", INTENDED_USE]
    return "\n".join(lines)


def add_card_section(checkpoint: Path, heading: str, body: str) -> None:
    """Add or replace a `## heading` section of a checkpoint's model card, atomically."""
    card = checkpoint / "README.md"
    text = card.read_text(encoding="utf-8")
    marker = f"\n## {heading}\n"
    if marker in text:
        start = text.index(marker)
        rest = text.find("\n## ", start + len(marker))
        text = text[:start] + (text[rest:] if rest != -1 else "\n")
    body = body.split("\n", 1)[1] if body.startswith("# ") else body  # drop its own title
    text = text.rstrip("\n") + f"\n{marker}\n{body.strip()}\n"
    tmp = card.with_name(f".{card.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, card)
