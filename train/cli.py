"""The `parley` command line: parses arguments, calls the plain functions, prints results."""

import argparse
import json
import sys
from pathlib import Path


def _print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def cmd_build_data(args) -> int:
    from train.config import load_config
    from train.fit import ensure_dataset

    config = load_config(args.config, args.set)
    out, manifest = ensure_dataset(config.data, rebuild=True)
    print(f"built {out}  fingerprint {manifest['fingerprint'][:16]}")
    for split, counts in manifest["counts"].items():
        print(
            f"  {split:<5} {manifest['articles'][split]:>4} articles  "
            + "  ".join(f"{k}={v}" for k, v in counts.items())
        )
    return 0


def cmd_train(args) -> int:
    from train.config import load_config
    from train.fit import train

    config = load_config(args.config, args.set)
    path = train(
        config,
        output=args.output,
        overwrite=args.overwrite,
        rebuild_data=args.rebuild_data,
        resume=args.resume,
    )
    metrics = json.loads((path / "metrics.json").read_text())
    print(f"checkpoint: {path}")
    for split, m in ((s, m) for s, m in metrics.items() if s in ("dev", "test")):
        lo, hi = m["macro_f1_ci95"]
        print(
            f"  {split:<5} macro-F1 {m['macro_f1']:.4f} [{lo:.4f}-{hi:.4f}]  "
            f"accuracy {m['accuracy']:.4f}  ECE {m['ece']:.4f}"
        )
    return 0


def cmd_evaluate(args) -> int:
    from train.reports import evaluate_checkpoint, evaluation_rows

    results = []
    for data in args.data:
        report = Path(args.report) / Path(data).stem if args.report else None
        metrics = evaluate_checkpoint(args.checkpoint, data, args.split, report)
        results.append(metrics)
        if not args.json:
            print(f"== {args.checkpoint} on {data}")
            _print_table(evaluation_rows(metrics))
            if report:
                print(f"report: {report / 'report.md'}")
    if args.json:
        print(json.dumps(results[0] if len(results) == 1 else results))
    return 0


def _read_inputs(files: list[str]) -> list[tuple[str, str]]:
    """(name, content) for each file, or stdin when no file (or '-') is given."""
    if not files or files == ["-"]:
        return [("<stdin>", sys.stdin.read())]
    return [(f, Path(f).read_text(encoding="utf-8", errors="replace")) for f in files]


def cmd_predict(args) -> int:
    from models.inference import classify_article, load

    classifier = load(args.checkpoint)
    for name, content in _read_inputs(args.files):
        if args.article:
            for sent in classify_article(classifier, content):
                print(json.dumps({"article": name, **sent.to_dict()}, ensure_ascii=False))
            continue
        lines = [line for line in content.splitlines() if line.strip()]
        for text, pred in zip(lines, classifier.predict(lines), strict=True):
            print(
                json.dumps(
                    {
                        "text": text,
                        "label": pred.label,
                        "score": pred.score,
                        "scores": pred.scores,
                        "flags": list(pred.flags),
                    },
                    ensure_ascii=False,
                )
            )
    return 0


def cmd_compare(args) -> int:
    from train.reports import compare_checkpoints, comparison_table

    result = compare_checkpoints(args.checkpoints, args.data, args.split, args.report)
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "disagreements"}))
        return 0
    print(
        f"== {len(args.checkpoints)} checkpoints on {args.data} (n={result['n']}, "
        f"{result['documents']} documents)"
    )
    print(comparison_table(result))
    for name, d in result["differences"].items():
        lo, hi = d["ci95"]
        print(
            f"paired bootstrap {name}: {d['macro_f1_difference']:+.4f} macro-F1 "
            f"[95% CI {lo:+.4f}, {hi:+.4f}]"
        )
    if args.report:
        print(f"report: {args.report}/comparison.md")
    return 0


def cmd_corpus_stats(args) -> int:
    from data.corpus import CORPUS_DIR, corpus_stats

    stats = corpus_stats(args.root or CORPUS_DIR)
    if args.json:
        print(json.dumps(stats))
        return 0
    print(f"articles {stats['articles']}  sentences {stats['sentences']}")
    header = ["", *stats["labels"], "total"]
    rows = [("all", stats["labels"])]
    rows += [(f"domain:{d}", c) for d, c in stats["labels_by_domain"].items()]
    rows += [(f"genre:{g}", c) for g, c in stats["labels_by_genre"].items()]
    width = max(len(r[0]) for r in rows)
    print(f"{header[0]:<{width}} " + " ".join(f"{h:>10}" for h in header[1:]))
    for name, counts in rows:
        print(
            f"{name:<{width}} "
            + " ".join(f"{v:>10}" for v in counts.values())
            + f" {sum(counts.values()):>10}"
        )
    seg = stats["segmentation"]
    print(
        f"segmenter/author boundary agreement: {seg['agreed_boundaries']}/"
        f"{seg['authored_boundaries']}  mismatches: {seg['mismatches']}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p):
        p.add_argument("config", help="YAML config, e.g. configs/baseline.yaml")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. --set train.epochs=3",
        )

    p = sub.add_parser("build-data", help="segment, label and split the corpus")
    with_config(p)
    p.set_defaults(func=cmd_build_data)

    p = sub.add_parser("train", help="train a model and write a checkpoint")
    with_config(p)
    p.add_argument("--output", help="checkpoint folder (default runs/<name>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    p.add_argument("--rebuild-data", action="store_true", help="rebuild the dataset first")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="score a checkpoint on labelled data")
    p.add_argument("checkpoint")
    p.add_argument("data", nargs="+", help="labelled JSONL or a built dataset folder")
    p.add_argument("--split", default="test", help="split of a dataset folder (default test)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--report", help="write Markdown + PNG reports under this folder")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("predict", help="label sentences (one per line) or whole articles")
    p.add_argument("checkpoint")
    p.add_argument("files", nargs="*", help="input files (default stdin)")
    p.add_argument("--article", action="store_true", help="treat each input as an article")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("compare", help="checkpoints side by side with paired bootstrap")
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--data", required=True, help="labelled JSONL or a built dataset folder")
    p.add_argument("--split", default="test")
    p.add_argument("--report", help="write comparison.md and confusion PNGs here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("corpus-stats", help="counts of the embedded corpus")
    p.add_argument("--json", action="store_true")
    p.add_argument("--root", help="another annotated corpus folder")
    p.set_defaults(func=cmd_corpus_stats)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileExistsError, FileNotFoundError, TypeError) as err:
        print(f"parley: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
