"""Article -> sentences with character offsets, built on sentencex.

Rules on top of the segmenter:
- every line break is a paragraph break, and a paragraph break is always a sentence break
  (titles are the first line of an article, so a title is always its own sentence);
- a guard bounds the work on any input: paragraphs are fed to sentencex in windows of at most
  MAX_WINDOW_CHARS, and no sentence is longer than MAX_SENTENCE_CHARS (longer runs are cut at
  whitespace), so scraped text without punctuation cannot produce one giant "sentence".
"""

from dataclasses import dataclass
from importlib.metadata import version

import sentencex

from data.text import normalize

LANGUAGE = "en"
MAX_WINDOW_CHARS = 20_000
MAX_SENTENCE_CHARS = 2_000
SEGMENTER = "sentencex"


def segmenter_version() -> str:
    return f"{SEGMENTER}=={version('sentencex')}"


@dataclass(frozen=True)
class Sentence:
    """One sentence of an article. `text` is normalised; `start`/`end` index the article."""

    index: int
    start: int
    end: int
    text: str


def _cut(start: int, end: int, text: str, limit: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most `limit` chars, preferring whitespace."""
    pieces = []
    while end - start > limit:
        cut = text.rfind(" ", start + 1, start + limit)
        cut = cut if cut > start else start + limit
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _segment_window(text: str, start: int, end: int) -> list[tuple[int, int]]:
    window = text[start:end]
    bounds = sentencex.get_sentence_boundaries(LANGUAGE, window)
    return [(start + b["start_index"], start + b["end_index"]) for b in bounds]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, whitespace trimmed, in order."""
    spans = []
    for p_start, p_end in _paragraph_spans(text):
        for w_start, w_end in _cut(p_start, p_end, text, MAX_WINDOW_CHARS):
            for s_start, s_end in _segment_window(text, w_start, w_end):
                for c_start, c_end in _cut(s_start, s_end, text, MAX_SENTENCE_CHARS):
                    c_start, c_end = _strip_span(text, c_start, c_end)
                    if c_end > c_start:
                        spans.append((c_start, c_end))
    return spans


def segment_article(text: str) -> list[Sentence]:
    """Split an article into sentences whose offsets point back into `text`.

    Sentences that normalise to nothing (stray control characters) are dropped."""
    if not isinstance(text, str):
        raise TypeError(f"segment_article expects str, got {type(text).__name__}")
    sentences = []
    for start, end in sentence_spans(text):
        clean = normalize(text[start:end])
        if clean:
            sentences.append(Sentence(len(sentences), start, end, clean))
    return sentences
