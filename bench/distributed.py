"""Archive benchmark: the single-process path against Ray Data with 1 and 2 workers, one run.

    python bench/distributed.py --checkpoint runs/baseline --repeat 20

The whole of `../shared/corpora/unlabeled/` is repeated (ids suffixed, so every article is
distinct) to at least 20,000 articles and labelled end to end (read, segment, predict, write)
by each engine in its own subprocess. A sampler polls the subprocess tree every 0.2 s and keeps
the peak resident memory of every process, so "peak per worker" is what each Ray actor really
held. Prints a Markdown table with the ratios to the single-process path and writes JSON.
"""

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ENGINES = ("single", "ray-1", "ray-2")


def repeated_archive(sources: list[Path], repeat: int, out: Path) -> int:
    """Write the sources `repeat` times into one JSONL with unique ids; return article count."""
    count = 0
    with open(out, "w", encoding="utf-8") as fh:
        for k in range(repeat):
            for source in sources:
                for line in source.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        obj = json.loads(line)
                        obj["id"] = f"{obj['id']}#r{k}"
                        fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
                        count += 1
    return count


def run_engine(engine: str, checkpoint: str, archive: str, output: str, backend: str | None):
    """Inside the subprocess: label the archive with one engine, print the counts as JSON."""
    start = time.perf_counter()
    if engine == "single":
        from models.batch_predict import predict_articles_file
        from models.inference import load

        stats = predict_articles_file(load(checkpoint, backend=backend), archive, output)
        result = {"articles": stats.articles, "sentences": stats.sentences}
    else:
        from models.ray_predict import predict_archive_ray

        workers = int(engine.split("-")[1])
        result = predict_archive_ray(checkpoint, archive, output, backend=backend, workers=workers)
        result.pop("bad_lines")
    result["seconds"] = time.perf_counter() - start
    print(json.dumps(result))


class TreeMemory:
    """Peak RSS of every process under `pid` (Ray's raylet, workers and actors included)."""

    def __init__(self, pid: int):
        import psutil

        self.root = psutil.Process(pid)
        self.peaks: dict[int, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    name = " ".join(p.cmdline())[:80]
                    rss = p.memory_info().rss
                except psutil.Error:
                    continue
                old = self.peaks.get(p.pid, (name, 0))
                self.peaks[p.pid] = (name if "ray::" in name else old[0], max(old[1], rss))
            time.sleep(0.2)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        mib = 1 << 20
        actors = [rss for name, rss in self.peaks.values() if "SentencePredictor" in name]
        driver = self.peaks.get(self.root.pid, ("", 0))[1]
        return {
            "driver_peak_mib": round(driver / mib),
            "worker_peak_mib": [round(r / mib) for r in sorted(actors, reverse=True)],
            "all_processes_peak_sum_mib": round(sum(r for _, r in self.peaks.values()) / mib),
        }


def measure(engine: str, args, archive: Path, out_dir: Path) -> dict:
    output = out_dir / (f"{engine}.jsonl" if engine == "single" else engine)
    command = [sys.executable, __file__, "--_engine", engine, "--checkpoint", args.checkpoint]
    command += ["--_archive", str(archive), "--_output", str(output)]
    if args.backend:
        command += ["--backend", args.backend]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO)
    with TreeMemory(proc.pid) as memory:
        stdout, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{engine} failed with exit code {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"engine": engine, **result, **memory.summary()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="runs/baseline")
    parser.add_argument("--backend", choices=["torch", "onnx"])
    parser.add_argument("--archives", default="../shared/corpora/unlabeled")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--work", default="runs/bench-distributed")
    parser.add_argument("--json", default="runs/bench-distributed.json")
    parser.add_argument("--_engine", help=argparse.SUPPRESS)
    parser.add_argument("--_archive", help=argparse.SUPPRESS)
    parser.add_argument("--_output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._engine:
        run_engine(args._engine, args.checkpoint, args._archive, args._output, args.backend)
        return

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    archive = work / "archive.jsonl"
    sources = sorted(Path(args.archives).glob("*.jsonl"))
    articles = repeated_archive(sources, args.repeat, archive)
    print(f"{articles} articles ({len(sources)} files x {args.repeat}) -> {archive}", flush=True)
    results = []
    for engine in args.engines.split(","):
        (work / f"{engine}.jsonl").unlink(missing_ok=True)
        shutil.rmtree(work / engine, ignore_errors=True)
        results.append(measure(engine, args, archive, work))
        print(json.dumps(results[-1]), flush=True)

    base = results[0]
    print(f"\ncheckpoint {args.checkpoint}, {articles} articles\n")
    print("| engine | articles/s | sentences/s | x single | peak per worker (MiB) | driver |")
    print("|---|---|---|---|---|---|")
    for r in results:
        rate = r["sentences"] / r["seconds"]
        print(
            f"| {r['engine']} | {r['articles'] / r['seconds']:.0f} | {rate:.0f} | "
            f"{rate / (base['sentences'] / base['seconds']):.2f} | "
            f"{', '.join(map(str, r['worker_peak_mib'])) or '-'} | {r['driver_peak_mib']} |"
        )
    Path(args.json).write_text(json.dumps({"articles": articles, "results": results}, indent=2))


if __name__ == "__main__":
    main()
