"""The `parley` command line: parses arguments, calls the plain functions, prints results."""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path


def _print_table(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


def cmd_build_data(args) -> int:
    if args.input:
        return _build_pool(args)
    if args.engine == "ray" or args.output:
        raise ValueError("--engine ray and --output go with --input ARCHIVE (a sentence pool)")
    if not args.config:
        raise ValueError("give a config (labelled dataset) or --input ARCHIVE --output POOL")
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
    for reason in manifest.get("standoff_skipped", []):
        print(f"  stand-off labels skipped: {reason}")
    return 0


def _build_pool(args) -> int:
    if not args.output:
        raise ValueError("--input needs --output POOL_FOLDER")
    if args.engine == "ray":
        from data.ray_engine import build_sentence_pool_ray

        manifest = build_sentence_pool_ray(args.input, args.output, args.address, args.workers)
    else:
        from data.pool import build_sentence_pool

        manifest = build_sentence_pool(args.input, args.output)
    for message in manifest["bad_lines"]:
        print(f"skipped {message}", file=sys.stderr)
    print(
        f"pool {args.output}: {manifest['articles']} articles, "
        f"{manifest['sentences']} sentences ({args.engine}; "
        f"{manifest['bad_line_count']} bad lines skipped)"
    )
    return 0


def _train_args(args) -> list[str]:
    """The `train` command line again, without the launcher flags, for the launched processes."""
    out = ["train", args.config]
    for item in args.set or []:
        out += ["--set", item]
    if args.output:
        out += ["--output", args.output]
    flags = {"--overwrite": args.overwrite, "--rebuild-data": args.rebuild_data}
    return out + [flag for flag, on in {**flags, "--resume": args.resume}.items() if on]


def cmd_train(args) -> int:
    from train.config import load_config
    from train.distributed import (
        LAUNCHED_ENV,
        launch_command,
        process_rank,
        world_size_from_env,
    )
    from train.fit import default_output, train

    config = load_config(args.config, args.set)
    if args.launcher == "accelerate" and world_size_from_env() == 1:
        if config.model.kind != "transformer":
            raise ValueError("--launcher accelerate trains transformer configs only")
        launched_env = {**os.environ, LAUNCHED_ENV: "1"}
        command = launch_command(_train_args(args), args.processes)
        returncode = subprocess.run(command, env=launched_env).returncode
        if returncode:
            return returncode
        path = Path(args.output) if args.output else default_output(config)
    else:
        path = train(
            config,
            output=args.output,
            overwrite=args.overwrite,
            rebuild_data=args.rebuild_data,
            resume=args.resume,
        )
        if process_rank() != 0 or os.environ.get(LAUNCHED_ENV):
            return 0  # launched by `--launcher`: the launching process reports
    metrics = json.loads((path / "metrics.json").read_text())
    print(f"checkpoint: {path}")
    for split, m in ((s, m) for s, m in metrics.items() if s in ("dev", "test")):
        lo, hi = m["macro_f1_ci95"]
        print(
            f"  {split:<5} macro-F1 {m['macro_f1']:.4f} [{lo:.4f}-{hi:.4f}]  "
            f"accuracy {m['accuracy']:.4f}  ECE {m['ece']:.4f}"
        )
    context = metrics.get("in_context")
    if context and "test" in context:
        m = context["test"]
        lo, hi = m["macro_f1_ci95"]
        print(
            f"  test in context (window {context['window']}, layer fitted on dev): macro-F1 "
            f"{m['macro_f1']:.4f} [{lo:.4f}-{hi:.4f}]  accuracy {m['accuracy']:.4f}"
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

    if args.engine == "ray":
        return _predict_archive_ray(args)  # the actors load the checkpoint, not this process
    classifier = load(args.checkpoint, backend=args.backend)
    if args.input or args.output:
        return _predict_archive(classifier, args)
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


def _predict_archive_ray(args) -> int:
    from models.ray_predict import predict_archive_ray

    if not (args.article and args.input and args.output):
        raise ValueError("--engine ray needs --article --input ARTICLES --output FOLDER")
    stats = predict_archive_ray(
        args.checkpoint,
        args.input,
        args.output,
        backend=args.backend,
        workers=args.workers,
        address=args.address,
    )
    for message in stats["bad_lines"]:
        print(f"skipped {message}", file=sys.stderr)
    print(
        f"{stats['articles']} articles, {stats['sentences']} sentences -> {args.output} "
        f"(Parquet; {stats['workers']} Ray workers, {len(stats['bad_lines'])} bad lines skipped)"
    )
    return 0


def _predict_archive(classifier, args) -> int:
    from models.batch_predict import predict_articles_file

    if not (args.article and args.input and args.output):
        raise ValueError("streaming mode needs --article --input ARTICLES.jsonl --output FILE")
    stats = predict_articles_file(classifier, args.input, args.output)
    for message in stats.bad_lines:
        print(f"skipped {message}", file=sys.stderr)
    print(
        f"{stats.articles} articles, {stats.sentences} sentences -> {args.output} "
        f"({stats.skipped_done} already done, {len(stats.bad_lines)} bad lines skipped)"
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


def cmd_analyze(args) -> int:
    from data.readers import read_articles
    from models.inference import load
    from train.article_view import analyze_articles, write_html

    classifier = load(args.checkpoint, backend=args.backend)
    articles = [a for path in args.articles for a in read_articles(path)]
    analyses = analyze_articles(classifier, articles)
    path = write_html(analyses, args.html, title=args.title)
    counts = (
        {lab: sum(a["counts"][lab] for a in analyses) for lab in analyses[0]["counts"]}
        if analyses
        else {}
    )
    print(
        f"{len(analyses)} articles -> {path}  " + "  ".join(f"{k}={v}" for k, v in counts.items())
    )
    return 0


def cmd_annotations_export(args) -> int:
    from data.annotation_formats import export_tasks, write_tasks
    from train.annotation_io import read_sentence_rows

    rows = read_sentence_rows(args.input)
    predictions = None
    if args.checkpoint:
        from models.inference import load

        predictions = load(args.checkpoint).predict([r["text"] for r in rows])
    path = write_tasks(export_tasks(rows, args.format, predictions), args.output, args.format)
    labelled = sum("label" in r for r in rows)
    print(
        f"{len(rows)} sentences ({labelled} labelled"
        f"{', with model pre-annotations' if predictions else ''}) -> {path} [{args.format}]"
    )
    return 0


def cmd_annotations_import(args) -> int:
    from data.annotation_formats import read_tasks
    from train.annotation_io import write_jsonl

    rows = read_tasks(args.file, args.format)
    path = write_jsonl(rows, args.output)
    print(f"{len(rows)} labelled sentences -> {path}")
    return 0


def cmd_suggest(args) -> int:
    from data.annotation_formats import export_tasks, write_tasks
    from models.base import Prediction
    from models.inference import load
    from train.annotation_io import read_sentence_rows
    from train.suggest import suggest

    classifier = load(args.checkpoint)
    rows = [r for r in read_sentence_rows(args.articles) if "label" not in r]
    picked = suggest(classifier, rows, args.n, per_article=args.per_article, seed=args.seed)
    predictions = [Prediction(**r["prediction"]) for r in picked]
    tasks = [{k: v for k, v in r.items() if k != "prediction"} for r in picked]
    path = write_tasks(export_tasks(tasks, args.format, predictions), args.output, args.format)
    print(f"{len(picked)} of {len(rows)} sentences suggested -> {path} [{args.format}]")
    return 0


def cmd_export(args) -> int:
    from train.export import export_checkpoint

    p = export_checkpoint(args.checkpoint, args.data)
    print(
        f"dev sentences {p['dev_sentences']}: torch macro-F1 {p['torch_macro_f1']:.4f}, "
        f"int8 macro-F1 {p['int8_macro_f1']:.4f} (drop {100 * p['macro_f1_drop']:.2f} "
        f"points), label agreement {100 * p['label_agreement']:.2f}%"
    )
    if p["int8_kept"]:
        print(f"kept {args.checkpoint}/model/onnx/model.int8.onnx; load() now uses ONNX Runtime")
    else:
        print(
            "refused the int8 model (limits: drop <= 1.0 point, agreement >= 99%); "
            "kept the exact fp32 ONNX model"
        )
    return 0


def cmd_check(args) -> int:
    from models.inference import load
    from train.behaviour import run_behaviour_suite, write_behaviour_report
    from train.model_card import add_card_section

    classifier = load(args.checkpoint, backend=args.backend)
    report = run_behaviour_suite(classifier, seed=args.seed)
    out = Path(args.output) if args.output else Path(args.checkpoint) / "behaviour"
    summary = write_behaviour_report(report, out)
    if not args.output:
        add_card_section(Path(args.checkpoint), "Behavioural tests", summary.read_text())
    print(summary.read_text())
    print(f"report: {out / 'behavioral_report.json'}")
    return 0


def cmd_weak_label(args) -> int:
    from data.build import read_split
    from train.annotation_io import read_sentence_rows, write_jsonl
    from train.config import load_config
    from train.fit import ensure_dataset
    from train.weak import function_report, silver_rows

    rows = [r for r in read_sentence_rows(args.articles) if "label" not in r]
    on_articles = function_report([r["text"] for r in rows])
    data_dir, _ = ensure_dataset(load_config(args.config).data)
    gold = read_split(data_dir, "train") + read_split(data_dir, "dev")
    on_gold = function_report([r["text"] for r in gold], [r["label"] for r in gold])
    print(
        f"{'function':<28} {'label':<11} {'coverage':>9} {'overlap':>8} {'conflict':>9} "
        f"{'gold acc':>9}"
    )
    for name, row in on_articles["functions"].items():
        accuracy = on_gold["functions"][name]["accuracy"]
        accuracy = "n/a" if accuracy is None else f"{accuracy:.3f}"  # never fired on gold
        print(
            f"{name:<28} {row['label']:<11} {row['coverage']:>9.3f} {row['overlap']:>8.3f} "
            f"{row['conflict']:>9.3f} {accuracy:>9}"
        )
    summary = on_gold["summary"]
    print(
        f"majority vote: covers {on_articles['summary']['majority_coverage']:.3f} of the "
        f"articles' sentences; on gold it covers {summary['majority_coverage']:.3f} "
        f"with accuracy {summary.get('majority_accuracy', float('nan')):.3f}"
    )
    if args.output:
        silver = silver_rows(rows)
        write_jsonl(
            [{k: r[k] for k in ("id", "doc_id", "text", "label") if k in r} for r in silver],
            args.output,
        )
        print(f"{len(silver)} silver-labelled sentences -> {args.output}")
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


def cmd_corpus_agreement(args) -> int:
    from data.agreement import agreement_report, paired_sentences, paired_standoff
    from data.corpus import AGREEMENT_DIR

    if args.standoff:
        pairs = paired_standoff(*args.standoff)
    else:
        pairs = paired_sentences(AGREEMENT_DIR / "first", AGREEMENT_DIR / "second")
    report = agreement_report(pairs)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"double-annotated: {report['sentences']} sentences in {report['articles']} articles")
    print(
        f"Cohen's kappa {report['kappa']:.3f}, observed agreement "
        f"{report['observed_agreement']:.3f}"
    )
    for lab, row in report["per_label"].items():
        print(
            f"  {lab:<11} first {row['first']:>4}  second {row['second']:>4}  "
            f"specific agreement {row['specific_agreement']:.3f}"
        )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="parley", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_engine(p):
        p.add_argument(
            "--engine",
            choices=["local", "ray"],
            default="local",
            help="ray: run on Ray Data (pip install -e '.[ray]')",
        )
        p.add_argument("--address", help="Ray cluster to join (default: start a local one)")
        p.add_argument("--workers", type=int, help="Ray actors (default: the CPUs Ray sees)")

    def with_config(p):
        p.add_argument("config", help="YAML config, e.g. configs/baseline.yaml")
        p.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override a config value, e.g. --set train.epochs=3",
        )

    p = sub.add_parser(
        "build-data",
        help="segment, label and split the corpus; or, with --input, segment an archive",
    )
    p.add_argument("config", nargs="?", help="YAML config (labelled dataset mode)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument(
        "--input", action="append", help="unlabeled archive(s) to segment into a sentence pool"
    )
    p.add_argument("--output", help="sentence pool folder (Parquet), with --input")
    with_engine(p)
    p.set_defaults(func=cmd_build_data)

    p = sub.add_parser("train", help="train a model and write a checkpoint")
    with_config(p)
    p.add_argument("--output", help="checkpoint folder (default runs/<name>)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint")
    p.add_argument("--rebuild-data", action="store_true", help="rebuild the dataset first")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument(
        "--launcher",
        choices=["none", "accelerate"],
        default="none",
        help="accelerate: data-parallel training in --processes processes (CPU or GPU)",
    )
    p.add_argument("--processes", type=int, default=2, help="processes for --launcher")
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
    p.add_argument("--input", help="JSONL articles to stream through (with --article)")
    p.add_argument(
        "--output",
        help="JSONL predictions, one line per sentence (resumable); a Parquet folder with Ray",
    )
    p.add_argument("--backend", choices=["torch", "onnx"], help="runtime for transformers")
    with_engine(p)
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("compare", help="checkpoints side by side with paired bootstrap")
    p.add_argument("checkpoints", nargs="+")
    p.add_argument("--data", required=True, help="labelled JSONL or a built dataset folder")
    p.add_argument("--split", default="test")
    p.add_argument("--report", help="write comparison.md and confusion PNGs here")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("analyze", help="highlight the moves of articles in one HTML page")
    p.add_argument("checkpoint")
    p.add_argument("articles", nargs="+", help="JSONL articles, .txt/.md files or folders")
    p.add_argument("--html", required=True, help="output page")
    p.add_argument("--title", default="parley: negotiation moves")
    p.add_argument("--backend", choices=["torch", "onnx"], help="runtime for transformers")
    p.set_defaults(func=cmd_analyze)

    formats = ["labelstudio", "doccano", "prodigy"]
    annotations = sub.add_parser("annotations", help="round trips with annotation tools")
    asub = annotations.add_subparsers(dest="action", required=True)
    p = asub.add_parser("export", help="sentences -> Label Studio / doccano / Prodigy tasks")
    p.add_argument("input", help="labelled or unlabelled sentence JSONL, or articles")
    p.add_argument("--format", required=True, choices=formats)
    p.add_argument("--output", required=True)
    p.add_argument("--checkpoint", help="add the model's predictions as pre-annotations")
    p.set_defaults(func=cmd_annotations_export)
    p = asub.add_parser("import", help="a tool's export -> parley labelled sentence JSONL")
    p.add_argument("file")
    p.add_argument("--format", required=True, choices=formats)
    p.add_argument("--output", required=True)
    p.set_defaults(func=cmd_annotations_import)

    p = sub.add_parser("suggest", help="the unlabelled sentences worth labelling next")
    p.add_argument("checkpoint")
    p.add_argument("articles", help="articles (JSONL, .txt/.md, folder) or sentence JSONL")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--per-article", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", default="labelstudio", choices=formats)
    p.add_argument("--output", required=True)
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("export", help="ONNX + int8 for a transformer checkpoint")
    p.add_argument("checkpoint")
    p.add_argument("--data", help="built dataset folder (default: the one in its config)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("check", help="behavioural test suite (CheckList-style)")
    p.add_argument("checkpoint")
    p.add_argument(
        "--output",
        help="report folder (default: <checkpoint>/behaviour, and the "
        "summary is added to the model card)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", choices=["torch", "onnx"])
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("weak-label", help="labeling functions: report and silver labels")
    p.add_argument("articles", help="articles (JSONL, .txt/.md, folder) or sentence JSONL")
    p.add_argument("--config", default="configs/baseline.yaml", help="gold data for accuracy")
    p.add_argument("--output", help="write silver-labelled sentence JSONL here")
    p.set_defaults(func=cmd_weak_label)

    p = sub.add_parser("corpus-stats", help="counts of the embedded corpus")
    p.add_argument("--json", action="store_true")
    p.add_argument("--root", help="another annotated corpus folder")
    p.set_defaults(func=cmd_corpus_stats)

    p = sub.add_parser(
        "corpus-agreement",
        help="inter-annotator agreement of the corpus, or of two stand-off label files",
    )
    p.add_argument(
        "--standoff",
        nargs=2,
        metavar=("FIRST", "SECOND"),
        help="two stand-off files over the same sentences, e.g. "
        "data/standoff/agreement/round3-first.jsonl data/standoff/agreement/round3-second.jsonl",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_corpus_agreement)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileExistsError, FileNotFoundError, TypeError) as err:
        print(f"parley: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # Everything parley writes is atomic or resumable, so stopping is always safe.
        print(
            "parley: interrupted; finished work is kept (train --resume and predict --output "
            "continue where they stopped)",
            file=sys.stderr,
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
