"""The annotated-article format: one article per file, one labelled sentence per line.

```
---
id: trade-a017
date: 1987-04-17
domain: trade
genre: wire
source: Parley Wire
---
[claim] JAPAN SAYS IT WILL NOT BOW TO U.S. CHIP TARIFFS

[other] TOKYO, April 17 - Japan's trade ministry met chip makers on Friday.
[threat] He said Tokyo was ready to answer any further tariffs in kind.
```

The front matter is YAML. The first block is the title (one line). Blank lines separate
paragraphs; each line is `[label] sentence`. The article text is rebuilt as the title and the
paragraphs joined by newlines (sentences of a paragraph joined by one space), which is what the
segmenter sees; `validate` checks that the segmenter finds exactly the authored sentences.

Run `python -m data.annotated check PATH...` to validate files or folders.
"""

import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from data.labels import LABELS, PRECEDENCE
from data.segment import Sentence, segment_article

REQUIRED_KEYS = ("id", "date", "domain", "genre", "source")
GENRES = ("wire", "analysis", "statement", "transcript", "opinion", "brief", "speech")
_LINE = re.compile(r"^\[(?P<label>[a-z]+)\] (?P<text>\S.*)$")


class AnnotationError(ValueError):
    """A malformed annotated-article file; the message names the file and line."""


@dataclass(frozen=True)
class AuthoredSentence:
    label: str
    text: str
    line: int  # 1-based line in the file, for messages


@dataclass
class AnnotatedArticle:
    path: str
    meta: dict
    title: AuthoredSentence
    paragraphs: list[list[AuthoredSentence]]

    @property
    def id(self) -> str:
        return str(self.meta["id"])

    @property
    def sentences(self) -> list[AuthoredSentence]:
        return [self.title] + [s for p in self.paragraphs for s in p]

    @property
    def text(self) -> str:
        body = [" ".join(s.text for s in p) for p in self.paragraphs]
        return "\n".join([self.title.text, *body])

    def authored_spans(self) -> list[tuple[int, int]]:
        """Character spans of the authored sentences inside `self.text`."""
        spans, pos = [], 0
        for block in [[self.title], *self.paragraphs]:
            for s in block:
                spans.append((pos, pos + len(s.text)))
                pos += len(s.text) + 1  # one space between sentences, or the newline
        return spans


def _split_front_matter(lines: list[str], path: str) -> tuple[dict, int]:
    if not lines or lines[0].strip() != "---":
        raise AnnotationError(f"{path}:1: file must start with a '---' front-matter line")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise AnnotationError(f"{path}: front matter is not closed by a '---' line") from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as err:
        raise AnnotationError(f"{path}: front matter is not valid YAML: {err}") from None
    if not isinstance(meta, dict):
        raise AnnotationError(f"{path}: front matter must be a mapping")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise AnnotationError(f"{path}: front matter lacks {', '.join(missing)}")
    meta = {k: str(v) for k, v in meta.items()}
    if meta["genre"] not in GENRES:
        raise AnnotationError(f"{path}: genre {meta['genre']!r} is not one of {', '.join(GENRES)}")
    return meta, end + 1


def _parse_line(raw: str, number: int, path: str) -> AuthoredSentence:
    match = _LINE.match(raw.rstrip())
    if not match:
        raise AnnotationError(f"{path}:{number}: expected '[label] sentence', got {raw[:60]!r}")
    label = match["label"]
    if label not in LABELS:
        raise AnnotationError(
            f"{path}:{number}: unknown label {label!r}; expected one of {', '.join(LABELS)}"
        )
    return AuthoredSentence(label, " ".join(match["text"].split()), number)


def parse_annotated(text: str, path: str = "<string>") -> AnnotatedArticle:
    """Parse one annotated article; raise AnnotationError naming file and line when malformed."""
    lines = text.splitlines()
    meta, first = _split_front_matter(lines, path)
    blocks: list[list[AuthoredSentence]] = [[]]
    for number, raw in enumerate(lines[first:], start=first + 1):
        if not raw.strip():
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(_parse_line(raw, number, path))
    blocks = [b for b in blocks if b]
    if not blocks:
        raise AnnotationError(f"{path}: no sentences")
    if len(blocks[0]) != 1:
        raise AnnotationError(
            f"{path}:{blocks[0][1].line}: the title block must be one line, "
            "followed by a blank line"
        )
    if Path(path).suffix == ".txt" and Path(path).stem != meta["id"]:
        raise AnnotationError(f"{path}: id {meta['id']!r} differs from the file name")
    return AnnotatedArticle(path, meta, blocks[0][0], blocks[1:])


def read_annotated(path: str | Path) -> AnnotatedArticle:
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise AnnotationError(f"{path}: not UTF-8 ({err.reason} at byte {err.start})") from None
    return parse_annotated(content, str(path))


def annotated_files(root: str | Path) -> list[Path]:
    """Every annotated-article file under `root` (a file or a folder), sorted for determinism."""
    root = Path(root)
    return [root] if root.is_file() else sorted(root.rglob("*.txt"))


@dataclass
class Alignment:
    """Segmenter sentences with the labels the annotation gives them."""

    sentences: list[Sentence]
    labels: list[str]
    mismatches: list[str] = field(default_factory=list)
    authored_boundaries: int = 0
    agreed_boundaries: int = 0


def _strongest(labels: list[str]) -> str:
    return min(labels, key=PRECEDENCE.index)


def align(article: AnnotatedArticle) -> Alignment:
    """Label each segmenter sentence from the authored sentences it overlaps.

    A segmenter sentence covering several authored ones takes the strongest label by the spec's
    precedence; each such case, and each authored sentence the segmenter splits, is a mismatch."""
    text = article.text
    authored = article.sentences
    spans = article.authored_spans()
    segmented = segment_article(text)
    labels, mismatches = [], []
    for sent in segmented:
        hits = [i for i, (a, b) in enumerate(spans) if a < sent.end and sent.start < b]
        labels.append(_strongest([authored[i].label for i in hits]))
        if [spans[i] for i in hits] != [(sent.start, sent.end)]:
            lines = ", ".join(str(authored[i].line) for i in hits)
            mismatches.append(f"{article.path}:{lines}: segmenter sentence {sent.text[:90]!r}")
    authored_ends = {b for _, b in spans}
    segmented_ends = {s.end for s in segmented}
    return Alignment(
        segmented,
        labels,
        mismatches,
        authored_boundaries=len(authored_ends),
        agreed_boundaries=len(authored_ends & segmented_ends),
    )


def check_paths(paths: list[str]) -> int:
    """Validate annotated files; print mismatches and counts. Returns the number of problems."""
    problems, labels, boundaries, agreed, ids = 0, Counter(), 0, 0, Counter()
    files = [f for p in paths for f in annotated_files(p)]
    for f in files:
        try:
            article = read_annotated(f)
        except AnnotationError as err:
            print(f"ERROR {err}")
            problems += 1
            continue
        ids[article.id] += 1
        result = align(article)
        for m in result.mismatches:
            print(f"MISMATCH {m}")
        problems += len(result.mismatches)
        labels.update(s.label for s in article.sentences)
        boundaries += result.authored_boundaries
        agreed += result.agreed_boundaries
    for dup in [i for i, n in ids.items() if n > 1]:
        print(f"ERROR duplicate article id {dup!r}")
        problems += 1
    print(f"files: {len(files)}  sentences: {sum(labels.values())}  problems: {problems}")
    print("labels: " + "  ".join(f"{lab}={labels[lab]}" for lab in LABELS))
    if boundaries:
        print(f"boundary agreement: {agreed}/{boundaries} = {agreed / boundaries:.4f}")
    return problems


if __name__ == "__main__":
    if len(sys.argv) < 3 or sys.argv[1] != "check":
        sys.exit("usage: python -m data.annotated check PATH...")
    sys.exit(1 if check_paths(sys.argv[2:]) else 0)
