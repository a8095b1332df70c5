"""The article view: label every sentence of some articles and show them on one HTML page.

`analyze_articles` turns articles into plain dicts (JSON-ready); `render_html` turns those dicts
into a single self-contained page (inline CSS and SVG, no scripts, nothing fetched), so the file
can be mailed, archived or opened offline and shows the same thing everywhere. Every piece of
text from the data goes through `html.escape`: articles are scraped text and may hold markup.
"""

import os
import re
import tempfile
from collections import Counter
from html import escape
from pathlib import Path

from data.labels import LABELS
from data.readers import Article
from models.base import Classifier
from models.inference import ClassifiedSentence, classify_article

# Muted highlight backgrounds that keep dark text well above WCAG AA contrast, and darker badge
# colours that carry white text (each at least 6:1 against white).
HIGHLIGHT = {
    "claim": "#dce8f6",
    "threat": "#f8dcdc",
    "demand": "#fbeacb",
    "concession": "#d9efdf",
    "other": "#efefec",
}
BADGE = {
    "claim": "#1f4e8c",
    "threat": "#9b1c1c",
    "demand": "#875200",
    "concession": "#1f6b35",
    "other": "#5c5c5c",
}
# One line per label for the legend, condensed from data/CODEBOOK.md.
DESCRIPTION = {
    "claim": "a party asserts a fact, position, accusation, denial or refusal",
    "threat": "a party warns it will, or stands ready to, do something harmful or costly",
    "demand": "a party calls on another to do or stop doing something",
    "concession": "a party gives ground or signals that it will",
    "other": "narration, background, scene-setting: no negotiation act",
}
UNKNOWN = "(none)"
MAX_SOURCE_ROWS = 25
_YEAR_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\b")


# ---
# Analysis: articles -> plain dicts


def _sentence_dict(sentence: ClassifiedSentence, paragraph: int) -> dict:
    pred = sentence.prediction
    return {
        "index": sentence.index,
        "start": sentence.start,
        "end": sentence.end,
        "text": sentence.text,
        "label": pred.label,
        "score": pred.score,
        "scores": dict(pred.scores),
        "flags": list(pred.flags),
        "paragraph": paragraph,
    }


def _sentence_dicts(sentences: list[ClassifiedSentence], text: str) -> list[dict]:
    """Sentence dicts with a paragraph number: a line break between two sentences starts one."""
    out, paragraph, previous_end = [], 0, 0
    for sentence in sentences:
        if out and "\n" in text[previous_end : sentence.start]:
            paragraph += 1
        out.append(_sentence_dict(sentence, paragraph))
        previous_end = sentence.end
    return out


def label_counts(labels: list[str]) -> dict[str, int]:
    """Counts of every schema label (zeros included), in schema order."""
    counter = Counter(labels)
    return {label: counter[label] for label in LABELS}


def analyze_article(classifier: Classifier, article: Article) -> dict:
    text = article.full_text
    sentences = _sentence_dicts(classify_article(classifier, text), text)
    return {
        "id": article.id,
        "title": article.title,
        "date": article.date,
        "source": article.source,
        "sentences": sentences,
        "counts": label_counts([s["label"] for s in sentences]),
    }


def analyze_articles(classifier: Classifier, articles: list[Article]) -> list[dict]:
    """One plain dict per article: id, title, date, source, labelled sentences, label counts.

    Sentence offsets index `article.full_text` (title line, then body); when the article has a
    title, paragraph 0 is the title."""
    return [analyze_article(classifier, article) for article in articles]


# ---
# Summary across articles


def year_month(date: str | None) -> str:
    """ "YYYY-MM" of an ISO-like date; UNKNOWN when absent or not ISO-like."""
    match = _YEAR_MONTH.match(date or "")
    return f"{match.group(1)}-{int(match.group(2)):02d}" if match else UNKNOWN


def _group_rows(analyses: list[dict], key) -> dict[str, dict]:
    """Per group: number of articles, sentences, and label counts."""
    groups: dict[str, dict] = {}
    for analysis in analyses:
        row = groups.setdefault(key(analysis), {"articles": 0, "counts": Counter()})
        row["articles"] += 1
        row["counts"].update(analysis["counts"])
    return groups


def total_counts(analyses: list[dict]) -> dict[str, int]:
    total = Counter()
    for analysis in analyses:
        total.update(analysis["counts"])
    return {label: total[label] for label in LABELS}


# ---
# HTML pieces. Every function returns a string of HTML; data is escaped where it is inserted.


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def _css() -> str:
    label_rules = "\n".join(
        f".lab-{lab} {{ background: {HIGHLIGHT[lab]}; }}\n"
        f".lab-{lab} > .badge, .chip.lab-{lab} > .badge {{ background: {BADGE[lab]}; }}"
        for lab in LABELS
    )
    return _BASE_CSS + label_rules


_BASE_CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body {
  margin: 0; background: #f6f6f3; color: #1c1c1c;
  font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
main { max-width: 880px; margin: 0 auto; padding: 32px 20px 64px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; line-height: 1.9; margin: 0 0 6px; }
h3 { font-size: .8rem; text-transform: uppercase; letter-spacing: .06em; color: #555;
  margin: 20px 0 8px; }
.lede { color: #4a4a4a; margin: 0 0 20px; }
.card, article.doc {
  background: #fff; border: 1px solid #e2e2dc; border-radius: 8px;
  padding: 20px 24px; margin: 0 0 20px;
}
.card > h3:first-child { margin-top: 0; }
.legend { list-style: none; padding: 0; margin: 0; display: grid; gap: 6px; }
.legend li { display: flex; gap: 10px; align-items: baseline; }
.swatch { flex: none; display: inline-block; width: 118px; padding: 1px 4px; border-radius: 4px; }
.legend .desc { color: #4a4a4a; font-size: .9rem; }
.chip { display: inline-block; border-radius: 4px; padding: 0 6px 0 0; white-space: nowrap;
  font-size: .85rem; margin: 0 6px 4px 0; }
.chip > .n { font-variant-numeric: tabular-nums; padding-left: 2px; }
.badge {
  display: inline-block; color: #fff; border-radius: 3px; padding: 0 5px;
  font-size: .66rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase;
  line-height: 1.5; vertical-align: 1px; margin-right: 5px;
}
.sent {
  border-radius: 4px; padding: 2px 4px; -webkit-box-decoration-break: clone;
  box-decoration-break: clone; cursor: help;
}
.body p { margin: 0 0 12px; line-height: 1.95; }
.meta { color: #555; font-size: .88rem; margin: 0 0 10px; }
.meta span + span::before { content: "·"; margin: 0 8px; color: #999; }
.counts { margin: 0 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { padding: 4px 8px; border-bottom: 1px solid #ececec; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { color: #555; font-weight: 600; }
td { font-variant-numeric: tabular-nums; white-space: nowrap; }
.chart { display: block; max-width: 100%; height: auto; }
.chart text { font: 12px system-ui, sans-serif; fill: #333; }
.muted { color: #666; font-size: .85rem; }
nav ol { margin: 0; padding-left: 22px; font-size: .92rem; }
nav li { margin: 2px 0; }
nav a { color: #1f4e8c; }
.empty { color: #666; font-style: italic; }
.card > :last-child, .body > p:last-child { margin-bottom: 0; }
.table-wrap { overflow-x: auto; }
"""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _badge(label: str) -> str:
    return f'<span class="badge">{_e(label)}</span>'


def _chip(label: str, count: int) -> str:
    return (
        f'<span class="chip lab-{_e(label)}">{_badge(label)}<span class="n">{count}</span></span>'
    )


def _counts_html(counts: dict[str, int]) -> str:
    return "".join(_chip(label, counts.get(label, 0)) for label in LABELS)


def _score_tooltip(sentence: dict) -> str:
    """The `title` attribute: the predicted label, then all five scores in schema order."""
    scores = sentence.get("scores", {})
    lines = [f"{sentence['label']} ({sentence['score']:.2f})"]
    lines += [f"{label}: {float(scores.get(label, 0.0)):.3f}" for label in LABELS]
    if sentence.get("flags"):
        lines.append("flags: " + ", ".join(sentence["flags"]))
    return "\n".join(lines)


def _sentence_html(sentence: dict) -> str:
    label = sentence["label"]
    return (
        f'<span class="sent lab-{_e(label)}" data-label="{_e(label)}" '
        f'data-index="{_e(sentence["index"])}" data-score="{sentence["score"]:.4f}" '
        f'title="{_e(_score_tooltip(sentence))}">'
        f'{_badge(label)}<span class="text">{_e(sentence["text"])}</span></span>'
    )


def _paragraphs(sentences: list[dict]) -> list[list[dict]]:
    groups: dict[int, list[dict]] = {}
    for sentence in sentences:
        groups.setdefault(sentence.get("paragraph", 0), []).append(sentence)
    return [groups[k] for k in sorted(groups)]


def _meta_html(analysis: dict) -> str:
    parts = [f"<span>id {_e(analysis['id'])}</span>"]
    parts += [
        f"<span>{_e(analysis[key])}</span>" for key in ("source", "date") if analysis.get(key)
    ]
    parts.append(f"<span>{_plural(len(analysis['sentences']), 'sentence')}</span>")
    return f'<p class="meta">{"".join(parts)}</p>'


def _article_html(number: int, analysis: dict) -> str:
    paragraphs = _paragraphs(analysis["sentences"])
    # The title line was classified too: show it, highlighted, as the heading.
    if analysis.get("title") and paragraphs:
        heading, paragraphs = " ".join(map(_sentence_html, paragraphs[0])), paragraphs[1:]
    else:
        heading = _e(analysis.get("title") or analysis["id"])
    body = "".join(f"<p>{' '.join(map(_sentence_html, p))}</p>" for p in paragraphs)
    body = body or '<p class="empty">No sentences.</p>'
    return (
        f'<article class="doc" id="doc-{number}" data-id="{_e(analysis["id"])}">'
        f"<h2>{heading}</h2>{_meta_html(analysis)}"
        f'<div class="counts">{_counts_html(analysis["counts"])}</div>'
        f'<div class="body">{body}</div></article>'
    )


def _bar_chart_svg(counts: dict[str, int]) -> str:
    """Horizontal bars, one per label in schema order; inline SVG, no external anything."""
    bar_h, gap, label_w, bar_w, top = 18, 8, 96, 300, 4
    height = top + len(LABELS) * (bar_h + gap)
    peak = max(counts.values(), default=0) or 1
    total = sum(counts.values()) or 1
    rows = []
    for i, label in enumerate(LABELS):
        y = top + i * (bar_h + gap)
        width = round(bar_w * counts[label] / peak, 1)
        share = f"{counts[label]} ({100 * counts[label] / total:.0f}%)"
        rows.append(
            f'<text x="{label_w - 8}" y="{y + 13}" text-anchor="end">{_e(label)}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar_h}" rx="3" '
            f'fill="{BADGE[label]}"><title>{_e(label)}: {share}</title></rect>'
            f'<text x="{label_w + width + 6}" y="{y + 13}">{share}</text>'
        )
    summary = ", ".join(f"{label} {counts[label]}" for label in LABELS)
    return (
        f'<svg class="chart" role="img" aria-label="Sentences per label: {_e(summary)}" '
        f'width="{label_w + bar_w + 80}" height="{height}" '
        f'viewBox="0 0 {label_w + bar_w + 80} {height}">{"".join(rows)}</svg>'
    )


def _group_table(caption: str, groups: dict[str, dict], order: list[str]) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for label in LABELS)
    rows = "".join(
        f"<tr><td>{_e(name)}</td><td>{groups[name]['articles']}</td>"
        f"<td>{sum(groups[name]['counts'].values())}</td>"
        + "".join(f"<td>{groups[name]['counts'][label]}</td>" for label in LABELS)
        + "</tr>"
        for name in order
    )
    return (
        f'<h3>{_e(caption)}</h3><div class="table-wrap"><table><thead><tr><th></th>'
        f"<th>articles</th><th>sentences</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def _source_table(analyses: list[dict]) -> str:
    if not any(a.get("source") for a in analyses):
        return ""
    groups = _group_rows(analyses, lambda a: a.get("source") or UNKNOWN)
    order = sorted(groups, key=lambda name: (-groups[name]["articles"], name))
    more = len(order) - MAX_SOURCE_ROWS
    note = f'<p class="muted">and {more} more sources</p>' if more > 0 else ""
    return _group_table("By source", groups, order[:MAX_SOURCE_ROWS]) + note


def _month_table(analyses: list[dict]) -> str:
    if not any(a.get("date") for a in analyses):
        return ""
    groups = _group_rows(analyses, lambda a: year_month(a.get("date")))
    # Months in time order; articles without a usable date last.
    order = sorted(groups, key=lambda name: (name == UNKNOWN, name))
    return _group_table("By month", groups, order)


def _legend_html() -> str:
    items = "".join(
        f'<li><span class="swatch lab-{lab}">{_badge(lab)}</span>'
        f'<span class="desc">{_e(DESCRIPTION[lab])}</span></li>'
        for lab in LABELS
    )
    return (
        f'<section class="card legend-card"><h3>Legend</h3><ul class="legend">{items}</ul>'
        '<p class="muted">Hover over a sentence to see the probability of every label.</p>'
        "</section>"
    )


def _summary_html(analyses: list[dict]) -> str:
    counts = total_counts(analyses)
    return (
        '<section class="card summary"><h3>Sentences per label</h3>'
        f"{_bar_chart_svg(counts)}"
        f"{_source_table(analyses)}{_month_table(analyses)}</section>"
    )


def _index_html(analyses: list[dict]) -> str:
    if len(analyses) < 2:
        return ""
    items = "".join(
        f'<li><a href="#doc-{i}">{_e(a.get("title") or a["id"])}</a></li>'
        for i, a in enumerate(analyses)
    )
    return f'<nav class="card" aria-label="Articles"><h3>Articles</h3><ol>{items}</ol></nav>'


def render_html(analyses: list[dict], title: str = "parley") -> str:
    """One self-contained HTML page: summary, legend, then every article highlighted by label."""
    n_sentences = sum(len(a["sentences"]) for a in analyses)
    articles = "".join(_article_html(i, a) for i, a in enumerate(analyses))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_css()}</style></head><body><main>"
        f"<h1>{_e(title)}</h1>"
        f'<p class="lede">{_plural(len(analyses), "article")}, '
        f"{_plural(n_sentences, 'sentence')}, each labelled {', '.join(LABELS)}.</p>"
        f"{_summary_html(analyses)}{_legend_html()}{_index_html(analyses)}{articles}"
        "</main></body></html>\n"
    )


def write_html(analyses: list[dict], path: str | Path, title: str = "parley") -> Path:
    """Render and write the page atomically: a temporary file beside it, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    page = render_html(analyses, title)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        # mkstemp makes the file private (0600); a report is meant to be readable.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
