"""Inter-annotator agreement between two annotations of the same articles.

Either two annotated-article folders with identical text (sentences paired by position, matched
word for word), or two stand-off label files over the same archive sentences (paired by
archive, article, offsets and hash; no text needed)."""

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


def paired_standoff(first_path: str | Path, second_path: str | Path) -> list[PairedSentence]:
    """Sentences labelled in both stand-off files; both must cover exactly the same slices."""
    from data.standoff import read_standoff

    def keyed(path):
        return {(x.archive, x.article, x.start, x.end, x.sha256): x for x in read_standoff(path)}

    first, second = keyed(first_path), keyed(second_path)
    if first.keys() != second.keys():
        raise ValueError(
            f"{first_path} and {second_path} label different sentences "
            f"({len(first.keys() - second.keys())} only in the first, "
            f"{len(second.keys() - first.keys())} only in the second)"
        )
    return [
        PairedSentence(key[1], key[2], key[4], first[key].label, second[key].label)
        for key in sorted(first)
    ]


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
