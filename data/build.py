"""Build train/dev/test splits from annotated articles (and optional labelled JSONL).

articles -> normalise -> segment -> attach labels -> split by article -> de-duplicate -> write
JSONL splits and `manifest.json`. The manifest fingerprints inputs and outputs, so training can
tell a stale or edited dataset from the one it was built from.
"""

import hashlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from data.annotated import align, annotated_files, read_annotated
from data.labels import LABELS, SCHEMA_VERSION
from data.readers import read_labeled
from data.segment import segmenter_version
from data.standoff import (
    DEFAULT_ARCHIVES,
    archive_texts,
    archives_used,
    missing_archives,
    read_standoff,
    resolve_labels,
)
from data.text import normalize

SPLITS = ("train", "dev", "test")
MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
FIELDS = ("id", "doc_id", "index", "text", "label", "domain", "genre", "source", "date")


class DatasetError(ValueError):
    """A dataset that cannot be built or no longer matches its manifest."""


@dataclass(frozen=True)
class SplitSettings:
    seed: int = 13
    dev_fraction: float = 0.15
    test_fraction: float = 0.15
    allow_near_duplicates: bool = False


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _source_files(sources: list[Path]) -> list[Path]:
    files = []
    for src in sources:
        if not src.exists():
            raise DatasetError(f"{src}: data source does not exist")
        files += [src] if src.is_file() else annotated_files(src)
    return files


def input_fingerprint(
    sources: list[Path],
    settings: SplitSettings,
    train_only: list[Path] = (),
    standoff: list[Path] = (),
    archives: Path = DEFAULT_ARCHIVES,
) -> dict:
    """Hashes of every input file and the settings; equal fingerprints build equal datasets."""
    # Keys are relative to each source's parent, so the fingerprint does not depend on the cwd.
    files = {
        f.relative_to(src.parent).as_posix(): sha256_file(f)
        for src in sources
        for f in _source_files([src])
    }
    files.update({f"train-only:{p.name}": sha256_file(p) for p in map(Path, train_only)})
    used: set[str] = set()
    for path in map(Path, standoff):
        files[f"standoff:{path.name}"] = sha256_file(path)
        used.update(archives_used(read_standoff(path)))
    for name in sorted(used):  # an archive several stand-off files point into is hashed once
        archive = Path(archives) / name
        files[f"archive:{name}"] = sha256_file(archive) if archive.is_file() else "missing"
    combined = hashlib.sha256(
        json.dumps(
            [files, settings.__dict__, SCHEMA_VERSION, segmenter_version()], sort_keys=True
        ).encode()
    ).hexdigest()
    return {"files": files, "sha256": combined}


def _annotated_rows(path: Path, stats: Counter) -> list[dict]:
    article = read_annotated(path)
    alignment = align(article)
    stats["mismatches"] += len(alignment.mismatches)
    stats["authored_boundaries"] += alignment.authored_boundaries
    stats["agreed_boundaries"] += alignment.agreed_boundaries
    meta = article.meta
    return [
        {
            "id": f"{article.id}#s{s.index:03d}",
            "doc_id": article.id,
            "index": s.index,
            "text": s.text,
            "label": label,
            "domain": meta["domain"],
            "genre": meta["genre"],
            "source": meta["source"],
            "date": meta["date"],
        }
        for s, label in zip(alignment.sentences, alignment.labels, strict=True)
    ]


def _labeled_rows(path: Path) -> list[dict]:
    position = Counter()
    rows = []
    for row in read_labeled(path):
        index = position[row.doc_id]
        position[row.doc_id] += 1
        rows.append(
            {
                "id": row.id,
                "doc_id": row.doc_id,
                "index": index,
                "text": normalize(row.text),
                "label": row.label,
                "domain": "",
                "genre": "",
                "source": path.stem,
                "date": "",
            }
        )
    return [r for r in rows if r["text"]]


def collect_rows(sources: list[Path]) -> tuple[list[dict], Counter]:
    """All labelled sentences from the sources, in a deterministic order."""
    stats, rows = Counter(), []
    for f in _source_files(sources):
        rows += _labeled_rows(f) if f.suffix == ".jsonl" else _annotated_rows(f, stats)
    return rows, stats


def _article_profiles(rows: list[dict]) -> dict[str, Counter]:
    profiles: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        profiles[r["doc_id"]][r["label"]] += 1
        profiles[r["doc_id"]]["domain:" + r["domain"]] += 1
    return profiles


def split_articles(rows: list[dict], settings: SplitSettings) -> dict[str, str]:
    """doc_id -> split. Whole articles go to one split; a seeded greedy pass keeps each split's
    label and domain mix close to its share (stratified as far as whole articles allow)."""
    profiles = _article_profiles(rows)
    shares = {
        "train": 1 - settings.dev_fraction - settings.test_fraction,
        "dev": settings.dev_fraction,
        "test": settings.test_fraction,
    }
    totals = sum(profiles.values(), Counter())
    docs = sorted(profiles)
    random.Random(settings.seed).shuffle(docs)
    # Large articles first: they are the hardest to place, small ones then fill the gaps.
    docs.sort(key=lambda d: -sum(v for k, v in profiles[d].items() if k in LABELS))
    filled = {s: Counter() for s in SPLITS}
    assignment = {}
    for doc in docs:

        def need(split: str, doc=doc) -> float:
            return sum(
                n * (shares[split] * totals[k] - filled[split][k]) / totals[k]
                for k, n in profiles[doc].items()
            )

        best = max((s for s in SPLITS if shares[s] > 0), key=need)
        assignment[doc] = best
        filled[best].update(profiles[doc])
    return assignment


_QUOTES = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u00ab": '"', "\u00bb": '"'}
)


def near_duplicate_key(text: str) -> str:
    """Case, quote style and spacing folded away: two sentences with equal keys are near-dupes."""
    return re.sub(r"\s+", " ", text.translate(_QUOTES).lower()).strip()


def deduplicate(split_rows: dict[str, list[dict]], allow_near: bool) -> Counter:
    """Drop from dev/test every sentence already in an earlier split (exact text); fail on
    near-duplicates across splits unless allowed. Returns counts of what was dropped."""
    seen_exact: set[str] = set()
    seen_near: dict[str, tuple[str, str]] = {}
    dropped, conflicts = Counter(), []
    for split in SPLITS:
        kept = []
        for row in split_rows[split]:
            if split != "train" and row["text"] in seen_exact:
                dropped[split] += 1
                continue
            key = near_duplicate_key(row["text"])
            first = seen_near.get(key)
            if first and first[0] != split and not allow_near:
                conflicts.append(
                    f"{row['id']} ({split}) ~ {first[1]} ({first[0]}): {row['text'][:70]!r}"
                )
            kept.append(row)
        split_rows[split] = kept
        for row in kept:
            seen_exact.add(row["text"])
            seen_near.setdefault(near_duplicate_key(row["text"]), (split, row["id"]))
    if conflicts:
        raise DatasetError(
            f"{len(conflicts)} near-duplicate sentences fall into different splits "
            "(set data.allow_near_duplicates: true to allow):\n  " + "\n  ".join(conflicts[:20])
        )
    return dropped


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(
            json.dumps({k: row[k] for k in FIELDS}, ensure_ascii=False) + "\n" for row in rows
        )


def _add_train_only(split_rows: dict[str, list[dict]], extra: list[dict]) -> int:
    """Append extra (e.g. silver) rows to train, minus any that nearly match dev or test."""
    held_out = {near_duplicate_key(r["text"]) for s in ("dev", "test") for r in split_rows[s]}
    kept = [r for r in extra if near_duplicate_key(r["text"]) not in held_out]
    split_rows["train"] += kept
    return len(extra) - len(kept)


def _standoff_rows(
    standoff: list[Path], archives: Path, rows: list[dict], skipped: list[str]
) -> list[dict]:
    """Rows recovered from stand-off files; a sentence that near-duplicates one already
    collected (wire stories were often re-sent) is dropped, so it cannot straddle splits."""
    usable = []
    for path in standoff:
        labels = read_standoff(path)
        missing = missing_archives(labels, archives)
        if missing:
            skipped.append(f"{path.name}: {', '.join(missing)} not found under {archives}")
        else:
            usable.append((path, labels))
    texts = archive_texts(archives, [x for _, labels in usable for x in labels])
    seen = {near_duplicate_key(r["text"]) for r in rows}
    out = []
    for path, labels in usable:
        for row in resolve_labels(labels, texts, path, archives):
            key = near_duplicate_key(row["text"])
            if row["text"] and key not in seen:
                seen.add(key)
                out.append(row)
    return out


def build_dataset(
    sources: list[str | Path],
    out_dir: str | Path,
    settings: SplitSettings = SplitSettings(),
    train_only: list[str | Path] = (),
    standoff: list[str | Path] = (),
    archives: str | Path = DEFAULT_ARCHIVES,
) -> dict:
    """Build the splits into `out_dir` (atomically replaced) and return the manifest.

    `train_only` labelled-sentence JSONL files (silver labels, say) go to the train split only,
    so dev and test stay gold. `standoff` files label sentences of the archives under
    `archives` (see data/standoff.py); they are split by article like the corpus, and skipped,
    with the reason in the manifest, when their archive is absent."""
    sources = [Path(s) for s in sources]
    train_only = [Path(p) for p in train_only]
    standoff, archives = [Path(p) for p in standoff], Path(archives)
    out_dir = Path(out_dir)
    fingerprint = input_fingerprint(sources, settings, train_only, standoff, archives)
    rows, stats = collect_rows(sources)
    skipped: list[str] = []
    rows += _standoff_rows(standoff, archives, rows, skipped)
    for reason in skipped:
        print(f"build-data: stand-off labels skipped: {reason}", file=sys.stderr)
    if not rows:
        raise DatasetError("the data sources hold no labelled sentences")
    assignment = split_articles(rows, settings)
    split_rows = {s: [r for r in rows if assignment[r["doc_id"]] == s] for s in SPLITS}
    dropped = deduplicate(split_rows, settings.allow_near_duplicates)
    extra = [r for p in train_only for r in _labeled_rows(p)]
    dropped["train_only_matching_held_out"] = _add_train_only(split_rows, extra)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for split in SPLITS:
            _write_jsonl(tmp / f"{split}.jsonl", split_rows[split])
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "schema_version": SCHEMA_VERSION,
            "labels": list(LABELS),
            "segmenter": segmenter_version(),
            "settings": settings.__dict__,
            "inputs": fingerprint,
            "outputs": {f"{s}.jsonl": sha256_file(tmp / f"{s}.jsonl") for s in SPLITS},
            "counts": {
                s: {lab: sum(r["label"] == lab for r in split_rows[s]) for lab in LABELS}
                for s in SPLITS
            },
            "articles": {s: len({r["doc_id"] for r in split_rows[s]}) for s in SPLITS},
            "dropped_duplicates": dict(dropped),
            "standoff_skipped": skipped,
            "segmentation": {
                "mismatches": stats["mismatches"],
                "authored_boundaries": stats["authored_boundaries"],
                "agreed_boundaries": stats["agreed_boundaries"],
            },
        }
        manifest["fingerprint"] = hashlib.sha256(
            json.dumps(manifest["outputs"], sort_keys=True).encode()
        ).hexdigest()
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def read_manifest(out_dir: str | Path) -> dict:
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{out_dir}: no {MANIFEST}; build the dataset first")
    return json.loads(path.read_text())


def verify_dataset(out_dir: str | Path) -> dict:
    """Return the manifest if every split file matches its recorded hash; else name the file."""
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    for name, digest in manifest["outputs"].items():
        path = out_dir / name
        if not path.is_file():
            raise DatasetError(f"{path}: listed in the manifest but missing")
        if sha256_file(path) != digest:
            raise DatasetError(
                f"{path}: contents no longer match manifest.json "
                "(edited after building?); rebuild with `parley build-data`"
            )
    return manifest


def is_stale(
    sources: list[str | Path],
    out_dir: str | Path,
    settings: SplitSettings = SplitSettings(),
    train_only: list[str | Path] = (),
    standoff: list[str | Path] = (),
    archives: str | Path = DEFAULT_ARCHIVES,
) -> bool:
    """True when the dataset is missing or was built from other inputs or settings."""
    try:
        manifest = read_manifest(out_dir)
    except DatasetError:
        return True
    current = input_fingerprint(
        [Path(s) for s in sources], settings, train_only, [Path(p) for p in standoff], archives
    )
    return manifest["inputs"]["sha256"] != current["sha256"]


def read_split(out_dir: str | Path, split: str) -> list[dict]:
    path = Path(out_dir) / f"{split}.jsonl"
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_splits(out_dir: str | Path):
    """The built splits as a `datasets.DatasetDict`, Arrow-cached inside the dataset folder."""
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    out_dir = Path(out_dir).resolve()
    files = {s: str(out_dir / f"{s}.jsonl") for s in SPLITS}
    return load_dataset("json", data_files=files, cache_dir=str(out_dir / ".arrow-cache"))
