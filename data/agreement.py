"""Inter-annotator agreement between two annotations of the same articles.

Both annotations use the annotated-article format with identical text; sentences are paired by
position and must match word for word."""

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from data.annotated import annotated_files, read_annotated
from data.labels import LABELS


@dataclass(frozen=True)
class PairedSentence:
    doc_id: str
    line: int
    text: str
    first: str
    second: str


def paired_sentences(first_root: str | Path, second_root: str | Path) -> list[PairedSentence]:
    """Sentences of every article present in both folders, with both labels."""
    first = {read_annotated(p).id: read_annotated(p) for p in annotated_files(first_root)}
    pairs = []
    for path in annotated_files(second_root):
        second = read_annotated(path)
        if second.id not in first:
            raise ValueError(f"{path}: article {second.id!r} has no first annotation")
        a_sents, b_sents = first[second.id].sentences, second.sentences
        if [s.text for s in a_sents] != [s.text for s in b_sents]:
            raise ValueError(f"{path}: text differs from the first annotation")
        pairs += [
            PairedSentence(second.id, a.line, a.text, a.label, b.label)
            for a, b in zip(a_sents, b_sents, strict=True)
        ]
    return pairs


def agreement_report(pairs: list[PairedSentence]) -> dict:
    """Cohen's kappa, raw agreement, and per-label specific agreement 2|A∩B| / (|A|+|B|)."""
    from sklearn.metrics import cohen_kappa_score, confusion_matrix

    a = [p.first for p in pairs]
    b = [p.second for p in pairs]
    count_a, count_b = Counter(a), Counter(b)
    both = Counter(x for x, y in zip(a, b, strict=True) if x == y)
    return {
        "sentences": len(pairs),
        "articles": len({p.doc_id for p in pairs}),
        "kappa": float(cohen_kappa_score(a, b, labels=list(LABELS))),
        "observed_agreement": sum(both.values()) / len(pairs),
        "per_label": {
            lab: {
                "first": count_a[lab],
                "second": count_b[lab],
                "specific_agreement": 2 * both[lab] / (count_a[lab] + count_b[lab])
                if count_a[lab] + count_b[lab]
                else None,
            }
            for lab in LABELS
        },
        "confusion_first_by_second": confusion_matrix(a, b, labels=list(LABELS)).tolist(),
    }
