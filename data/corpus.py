"""The embedded corpus: where it lives and what is in it."""

from collections import Counter
from pathlib import Path

from data.annotated import align, annotated_files, read_annotated
from data.labels import LABELS

CORPUS_DIR = Path(__file__).parent / "corpus" / "articles"
AGREEMENT_DIR = Path(__file__).parent / "corpus" / "agreement"


def corpus_stats(root: str | Path = CORPUS_DIR) -> dict:
    """Counts of articles and (segmenter) sentences per label, domain, genre and era."""
    labels, domains, genres, decades = Counter(), Counter(), Counter(), Counter()
    by_domain: dict[str, Counter] = {}
    by_genre: dict[str, Counter] = {}
    articles = sentences = mismatches = boundaries = agreed = 0
    for path in annotated_files(root):
        article = read_annotated(path)
        alignment = align(article)
        articles += 1
        sentences += len(alignment.labels)
        mismatches += len(alignment.mismatches)
        boundaries += alignment.authored_boundaries
        agreed += alignment.agreed_boundaries
        domain, genre = article.meta["domain"], article.meta["genre"]
        domains[domain] += 1
        genres[genre] += 1
        decades[article.meta["date"][:3] + "0s"] += 1
        labels.update(alignment.labels)
        by_domain.setdefault(domain, Counter()).update(alignment.labels)
        by_genre.setdefault(genre, Counter()).update(alignment.labels)
    return {
        "articles": articles,
        "sentences": sentences,
        "labels": {lab: labels[lab] for lab in LABELS},
        "domains": dict(sorted(domains.items())),
        "genres": dict(sorted(genres.items())),
        "decades": dict(sorted(decades.items())),
        "labels_by_domain": {
            d: {lab: c[lab] for lab in LABELS} for d, c in sorted(by_domain.items())
        },
        "labels_by_genre": {
            g: {lab: c[lab] for lab in LABELS} for g, c in sorted(by_genre.items())
        },
        "segmentation": {
            "mismatches": mismatches,
            "authored_boundaries": boundaries,
            "agreed_boundaries": agreed,
        },
    }
