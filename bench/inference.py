"""Inference benchmark: one run, the same real sentences, every runtime, with ratios.

    python bench/inference.py --baseline runs/baseline --transformer runs/minilm \
        --articles ../shared/corpora/unlabeled/whitehouse-statements.jsonl --sentences 3000

Each measurement runs in its own subprocess (so peak memory is that runtime's alone) with the
same thread count, after a warm-up batch. Prints a Markdown table and writes JSON next to it.
"""

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

STAGES = ("baseline", "torch", "onnx-fp32", "onnx-int8", "hf-pipeline", "classify-article")


def sample_sentences(articles: Path, n: int) -> tuple[list[str], list[str]]:
    """The first `n` sentences of the archive (real text), and the articles they come from."""
    from data.readers import read_articles
    from data.segment import segment_article

    sentences, texts = [], []
    for article in read_articles(articles):
        texts.append(article.full_text)
        sentences += [s.text for s in segment_article(article.full_text)]
        if len(sentences) >= n:
            break
    return sentences[:n], texts


def _onnx_settings(checkpoint: Path) -> tuple[int, float]:
    """(max_length, temperature) of a checkpoint, read as `models.load` reads them."""
    from models.checkpoint import read_config, read_json

    max_length = read_config(checkpoint)["model"]["max_length"]
    temperature = float(read_json(checkpoint, "calibration.json").get("temperature", 1.0))
    return max_length, temperature


def load_onnx(checkpoint: str, prefer_int8: bool, threads: int):
    from models.onnx_backend import OnnxClassifier

    max_length, temperature = _onnx_settings(Path(checkpoint))
    return OnnxClassifier.from_folder(
        Path(checkpoint) / "model", max_length, threads, temperature, prefer_int8
    )


def int8_classifier(checkpoint: Path, threads: int):
    """The int8 model `parley export` kept, or, when export refused it for parity, the same
    quantisation of the fp32 export into a temporary file: its speed is measured either way."""
    import tempfile

    from models.onnx_backend import FP32, INT8, OnnxClassifier, quantize_int8

    onnx_dir = checkpoint / "model" / "onnx"
    if (onnx_dir / INT8).is_file():
        return load_onnx(str(checkpoint), True, threads), {"int8_kept": True}
    max_length, temperature = _onnx_settings(checkpoint)
    with tempfile.TemporaryDirectory(prefix="parley-int8-") as tmp:
        quantize_int8(onnx_dir / FP32, Path(tmp) / INT8)
        # The session holds the model in memory; the temporary file can go.
        clf = OnnxClassifier.from_file(
            Path(tmp) / INT8, checkpoint / "model", max_length, threads, temperature
        )
    return clf, {"int8_kept": False}


def _time(fn, items) -> float:
    from data.quality import load_language_identifier

    # Warm-up: one-time costs are not throughput. The language identifier loads lazily (about a
    # second) on the first text that needs it, which the first 64 sentences may not contain.
    load_language_identifier()
    fn(items[:64])
    start = time.perf_counter()
    fn(items)
    return time.perf_counter() - start


def run_stage(stage: str, args) -> dict:
    """Measure one stage in this process; returns seconds and counts."""
    import torch

    torch.set_num_threads(args.threads)
    sentences, articles = sample_sentences(Path(args.articles), args.sentences)
    from models.inference import classify_article, load

    extra = {}

    if stage == "baseline":
        clf = load(args.baseline, threads=args.threads)
        seconds, n, unit = _time(clf.predict, sentences), len(sentences), "sentences"
    elif stage == "torch":
        clf = load(args.transformer, backend="torch", threads=args.threads)
        seconds, n, unit = _time(clf.predict, sentences), len(sentences), "sentences"
    elif stage == "onnx-fp32":
        clf = load_onnx(args.transformer, False, args.threads)
        seconds, n, unit = _time(clf.predict, sentences), len(sentences), "sentences"
    elif stage == "onnx-int8":
        clf, extra = int8_classifier(Path(args.transformer), args.threads)
        seconds, n, unit = _time(clf.predict, sentences), len(sentences), "sentences"
    elif stage == "hf-pipeline":
        from transformers import pipeline

        # What a user would write without parley: the default pipeline, handed the same
        # weights (a model object, since a mean-pooled head is not a library class).
        model = load(args.transformer, backend="torch", threads=args.threads)
        pipe = pipeline(
            "text-classification",
            model=model.model,
            tokenizer=model.tokenizer,
            device="cpu",
            top_k=None,
        )
        seconds, n, unit = _time(lambda xs: pipe(xs), sentences), len(sentences), "sentences"
    else:  # classify-article: segmentation + normalisation + the ONNX model, whole articles
        from data.segment import segment_article

        # What `load` picks: the int8 model when export kept it, else the fp32 one.
        clf = load(args.transformer, threads=args.threads)
        chosen = articles[: args.articles_n]
        seconds = _time(lambda xs: [classify_article(clf, a) for a in xs], chosen)
        n, unit = len(chosen), "articles"
        extra = {
            "sentences_per_second": sum(len(segment_article(a)) for a in chosen) / seconds,
            "model_file": getattr(clf, "model_file", "torch"),
        }
    return {
        **extra,
        "stage": stage,
        "seconds": seconds,
        "n": n,
        "unit": unit,
        "per_second": n / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default="runs/baseline")
    parser.add_argument("--transformer", default="runs/minilm")
    parser.add_argument(
        "--articles",
        default=str(REPO.parent / "shared/corpora/unlabeled/whitehouse-statements.jsonl"),
    )
    parser.add_argument("--sentences", type=int, default=3000)
    parser.add_argument("--articles-n", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--output", default="runs/bench-inference.json")
    args = parser.parse_args()
    if args.stage:  # child process: one measurement, JSON on the last stdout line
        print(json.dumps(run_stage(args.stage, args)))
        return
    results = []
    for stage in STAGES:
        cmd = [sys.executable, __file__, "--stage", stage] + [
            f"--{k.replace('_', '-')}={v}"
            for k, v in vars(args).items()
            if k not in ("stage",) and v is not None
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(
            f"{stage:<17} {r['per_second']:>10.1f} {r['unit']}/s  peak {r['peak_rss_mb']:.0f} MB",
            file=sys.stderr,
        )
    by = {r["stage"]: r for r in results}

    def ratio(a: str, b: str) -> float:
        return by[a]["per_second"] / by[b]["per_second"]

    ratios = {
        "onnx-int8 / hf-pipeline": ratio("onnx-int8", "hf-pipeline"),
        "onnx-int8 / onnx-fp32": ratio("onnx-int8", "onnx-fp32"),
        "onnx-fp32 / hf-pipeline": ratio("onnx-fp32", "hf-pipeline"),
        "torch / hf-pipeline": ratio("torch", "hf-pipeline"),
        "baseline / onnx-int8": ratio("baseline", "onnx-int8"),
    }
    report = {
        "threads": args.threads,
        "sentences": args.sentences,
        "results": results,
        "ratios": ratios,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print("| runtime | throughput | peak memory |\n|---|---:|---:|")
    for r in results:
        if "model_file" in r:
            r["stage"] = f"{r['stage']} ({r['model_file']})"
        print(
            f"| {r['stage']} | {r['per_second']:,.0f} {r['unit']}/s | {r['peak_rss_mb']:,.0f} MB |"
        )
    for name, value in ratios.items():
        print(f"- {name}: {value:.1f}x")


if __name__ == "__main__":
    main()
