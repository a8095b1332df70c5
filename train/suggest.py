"""Which unlabelled sentences to annotate next: the ones the model is least sure of, spread out.

Uncertainty alone picks clusters: the same boilerplate sentence from twenty wire copies, or
every hedged line of one long article. So the ranking is filtered for diversity:
- no near-duplicates (case, quotes and spacing folded, or mostly the same words);
- at most `per_article` sentences from one article (`doc_id`);
- a spread over predicted labels: one pick per predicted label in turn, each the most uncertain
  sentence left for that label.
"""

import random
import re
from collections import Counter, deque
from pathlib import Path

from data.build import near_duplicate_key
from data.pool import is_pool, read_pool
from data.readers import read_articles
from data.segment import segment_article
from models.base import EMPTY, Classifier, Prediction

# Two sentences sharing this share of their word types are the same sentence for annotation:
# an eight-word wire sentence with its weekday changed (7 of 9 types shared, 0.78) is caught,
# two five-word sentences differing in one word (0.67) are not.
JACCARD_NEAR_DUPLICATE = 0.75
_WORD = re.compile(r"\w+")


def sentences_from_articles(path: str | Path) -> list[dict]:
    """Rows (`id`, `doc_id`, `index`, `start`, `end`, `text`) for every sentence of the articles
    at `path` (a .jsonl file, a .txt/.md file, a folder, or a sentence pool built by
    `parley build-data --input`, which is read instead of segmenting again); offsets index
    `Article.full_text`."""
    if is_pool(path):
        return [
            {
                "id": f"{row['article']}#s{row['index']:03d}",
                "doc_id": row["article"],
                **{k: row[k] for k in ("index", "start", "end", "text")},
            }
            for row in read_pool(path)
        ]
    return [
        {
            "id": f"{article.id}#s{sentence.index:03d}",
            "doc_id": article.id,
            "index": sentence.index,
            "start": sentence.start,
            "end": sentence.end,
            "text": sentence.text,
        }
        for article in read_articles(path)
        for sentence in segment_article(article.full_text)
    ]


def margin_uncertainty(scores: dict[str, float]) -> float:
    """1 minus the gap between the two most probable labels: 1 is a coin toss, 0 certainty."""
    first, second = sorted(scores.values(), reverse=True)[:2]
    return 1.0 - (first - second)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 1.0


class _Picked:
    """What has been chosen so far, to test a candidate against."""

    def __init__(self, per_article: int):
        self.per_article = per_article
        self.keys: set[str] = set()
        self.word_sets: list[frozenset[str]] = []
        self.per_doc: Counter = Counter()

    def admits(self, row: dict) -> bool:
        if row.get("doc_id") is not None and self.per_doc[row["doc_id"]] >= self.per_article:
            return False
        if near_duplicate_key(row["text"]) in self.keys:
            return False
        words = _word_set(row["text"])
        return all(_jaccard(words, other) < JACCARD_NEAR_DUPLICATE for other in self.word_sets)

    def add(self, row: dict) -> None:
        self.keys.add(near_duplicate_key(row["text"]))
        self.word_sets.append(_word_set(row["text"]))
        if row.get("doc_id") is not None:
            self.per_doc[row["doc_id"]] += 1


def _check_sentences(sentences: list[dict]) -> list[dict]:
    for position, row in enumerate(sentences):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise ValueError(f"sentence {position}: expected a dict with a string 'text'")
    return list(sentences)


def _scored(sentence: dict, prediction: Prediction) -> dict:
    return {
        **sentence,
        "uncertainty": margin_uncertainty(prediction.scores),
        "prediction": {
            "label": prediction.label,
            "score": prediction.score,
            "scores": dict(prediction.scores),
        },
    }


def rank_by_uncertainty(
    classifier: Classifier, sentences: list[dict], seed: int = 0
) -> list[dict]:
    """Every sentence with its `uncertainty` and `prediction`, most uncertain first.

    Empty sentences are dropped (they sit at chance level but hold nothing to label); ties are
    broken by a seeded shuffle, so equal scores do not always favour the first article read."""
    rows = _check_sentences(sentences)
    predictions = classifier.predict([row["text"] for row in rows])
    scored = [
        _scored(r, p) for r, p in zip(rows, predictions, strict=True) if EMPTY not in p.flags
    ]
    random.Random(seed).shuffle(scored)
    return sorted(scored, key=lambda row: -row["uncertainty"])


def _queues_by_label(ranked: list[dict]) -> dict[str, deque[dict]]:
    """Ranked rows grouped by predicted label; labels ordered by their most uncertain row."""
    queues: dict[str, deque[dict]] = {}
    for row in ranked:
        queues.setdefault(row["prediction"]["label"], deque()).append(row)
    return queues


def _next_admitted(queue: deque[dict], picked: _Picked) -> dict | None:
    """Pop rows off the front of `queue` until one is admitted; None when it runs dry.

    A row turned away is gone for good: caps only fill and duplicates stay duplicates."""
    while queue:
        row = queue.popleft()
        if picked.admits(row):
            return row
    return None


def _round_robin(queues: dict[str, deque[dict]], n: int, picked: _Picked) -> list[dict]:
    chosen: list[dict] = []
    while len(chosen) < n and any(queues.values()):
        for queue in queues.values():
            if len(chosen) == n:
                break
            row = _next_admitted(queue, picked)
            if row is not None:
                picked.add(row)
                chosen.append(row)
    return chosen


def suggest(
    classifier: Classifier, sentences: list[dict], n: int, per_article: int = 3, seed: int = 0
) -> list[dict]:
    """Up to `n` sentences to annotate next, each row as given plus `uncertainty` and
    `prediction` (`label`, `score`, `scores`).

    Order is the pick order: one per predicted label in turn, the most uncertain admitted first,
    so the head of the list is already spread over labels. Fewer than `n` come back when the
    caps and the near-duplicate filter leave too few."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if per_article < 1:
        raise ValueError(f"per_article must be >= 1, got {per_article}")
    queues = _queues_by_label(rank_by_uncertainty(classifier, sentences, seed))
    return _round_robin(queues, n, _Picked(per_article))
