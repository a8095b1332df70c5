"""The article view: analysis dicts, a self-contained escaped HTML page, and a real browser."""

import re
import shutil
import subprocess
from html import escape

import numpy as np
import pytest

from data.labels import LABELS
from data.readers import Article
from models.base import Classifier
from train.article_view import analyze_articles, render_html, write_html, year_month

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
EVIL = "He wrote <script>alert(1)</script> & left."

# The label a sentence gets is the first keyword it contains; else `other`.
KEYWORDS = {"warned": "threat", "urged": "demand", "agreed": "concession", "said": "claim"}


class KeywordClassifier(Classifier):
    """Fixed logits by keyword: deterministic, instant, and every label reachable."""

    kind = "keyword"

    def _logits(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), len(LABELS)))
        for i, text in enumerate(texts):
            label = next((lab for word, lab in KEYWORDS.items() if word in text), "other")
            rows[i, LABELS.index(label)] = 4.0
        return rows


ARTICLES = [
    Article(
        id="a<1>",
        title="Dockers & bosses <b>clash</b>",
        text=(
            "The union warned it would strike on Monday. The minister urged calm.\n"
            "The company agreed to review pay. A spokesman said the offer was fair.\n"
            f"{EVIL}"
        ),
        date="1987-05-02",
        source="Wire <Service>",
    ),
    Article(id="a2", title="", text="Talks resumed in Geneva. Both sides agreed to meet again."),
]


@pytest.fixture(scope="module")
def analyses() -> list[dict]:
    return analyze_articles(KeywordClassifier(), ARTICLES)


@pytest.fixture(scope="module")
def page(analyses) -> str:
    return render_html(analyses, title="Dock <talks>")


def test_analysis_dicts_hold_labels_offsets_and_counts(analyses):
    first, second = analyses
    assert (first["id"], first["date"], first["source"]) == (
        "a<1>",
        "1987-05-02",
        "Wire <Service>",
    )
    labels = [s["label"] for s in first["sentences"]]
    assert labels == ["other", "threat", "demand", "concession", "claim", "other"]
    assert first["counts"] == {"claim": 1, "threat": 1, "demand": 1, "concession": 1, "other": 2}
    assert list(first["counts"]) == list(LABELS)
    full = ARTICLES[0].full_text
    for s in first["sentences"]:
        assert full[s["start"] : s["end"]] == s["text"]
        assert list(s["scores"]) == list(LABELS) and s["score"] == s["scores"][s["label"]]
    assert [s["paragraph"] for s in first["sentences"]] == [0, 1, 1, 2, 2, 3]
    assert second["counts"]["concession"] == 1 and second["date"] is None


def test_text_from_the_data_is_escaped(page):
    assert "<script" not in page.lower()
    assert escape("<script>alert(1)</script>") in page
    assert "&amp; left." in page
    assert "Dockers &amp; bosses &lt;b&gt;clash&lt;/b&gt;" in page
    assert "<b>" not in page
    assert 'data-id="a&lt;1&gt;"' in page and "Wire &lt;Service&gt;" in page
    assert "<title>Dock &lt;talks&gt;</title>" in page


def test_every_sentence_is_a_span_with_label_index_and_all_scores(page, analyses):
    spans = re.findall(r'<span class="sent lab-(\w+)" data-label="(\w+)" data-index="(\d+)"', page)
    expected = [
        (s["label"], s["label"], str(s["index"])) for a in analyses for s in a["sentences"]
    ]
    assert spans == expected
    tooltips = re.findall(r'class="sent[^>]*title="([^"]*)"', page)
    assert len(tooltips) == len(expected)
    for tooltip in tooltips:
        assert all(f"{label}: " in tooltip for label in LABELS)


def test_summary_counts_legend_and_chart_are_present(page):
    assert '<svg class="chart"' in page and page.count("<rect ") == len(LABELS)
    assert "Sentences per label" in page and "Legend" in page
    # claim 1, threat 1, demand 1, concession 1+1, other 2+1 across the two articles.
    assert (
        'aria-label="Sentences per label: claim 1, threat 1, demand 1, concession 2, other 3"'
        in page
    )
    assert "By source" in page and "(none)" in page
    assert "By month" in page and "1987-05" in page
    legend = page[page.index('class="legend"') :]
    positions = [legend.index(f'class="swatch lab-{label}"') for label in LABELS]
    assert positions == sorted(positions)


def test_summary_tables_are_left_out_without_sources_or_dates():
    page = render_html(analyze_articles(KeywordClassifier(), [ARTICLES[1]]))
    assert "By source" not in page and "By month" not in page and "Legend" in page


def test_page_fetches_nothing(page):
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page and "url(" not in page
    for target in re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', page):
        assert target.startswith("#"), target


def test_year_month():
    assert year_month("1987-05-02") == "1987-05"
    assert year_month("2024-3-9") == "2024-03"
    assert year_month(None) == year_month("May 1987") == "(none)"


def test_write_html_is_atomic_and_leaves_no_temp_files(tmp_path, analyses):
    target = tmp_path / "out" / "view.html"
    assert write_html(analyses, target) == target
    assert target.read_text(encoding="utf-8") == render_html(analyses)
    assert [p.name for p in target.parent.iterdir()] == ["view.html"]


# ---
# A real browser renders the page.


def find_browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"chromium not installed: none of {', '.join(BROWSERS)} is on PATH")


def run_headless(browser: str, profile, *args: str) -> subprocess.CompletedProcess:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=True
    )


def test_chromium_renders_highlighted_sentences(tmp_path, analyses, page):
    from selectolax.lexbor import LexborHTMLParser

    browser = find_browser()
    html_path = write_html(analyses, tmp_path / "view.html", title="Dock <talks>")
    url = html_path.as_uri()
    dom = run_headless(browser, tmp_path / "profile", "--dump-dom", url).stdout
    tree = LexborHTMLParser(dom)
    rendered = [
        (node.attributes["data-label"], node.css_first(".text").text())
        for node in tree.css("span.sent")
    ]
    expected = [(s["label"], s["text"]) for a in analyses for s in a["sentences"]]
    assert rendered == expected
    assert EVIL in [text for _, text in rendered]
    assert not tree.css("main script") and tree.css_first("svg.chart rect") is not None
    assert tree.css_first("title").text() == "Dock <talks>"

    shot = tmp_path / "view.png"
    run_headless(
        browser, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1000,1400", url
    )
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
