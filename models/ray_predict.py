"""Batch prediction on Ray Data: the single-machine article -> sentences -> labels pipeline,
spread over a pool of actors that each load the checkpoint once.

    read (JSONL/Parquet; file, folder, glob or URL)
      -> flat_map(sentence_rows)            segmentation, in parallel tasks
      -> map_batches(SentencePredictor)     a fixed pool of actors, one checkpoint each
      -> write_parquet                      the columns of `parley predict --output` JSONL

Ray is optional (`pip install -e '.[ray]'`) and imported only here and in `data.ray_engine`.
A batch whose prediction raises is retried by Ray Data (`max_map_retries`); a retried batch
replaces its own output, so rows are neither lost nor duplicated.
"""

from pathlib import Path

from data.pool import sentence_rows
from data.ray_engine import (
    article_of,
    bad_records,
    is_article,
    read_article_records,
    start_ray,
    write_parquet_atomically,
)

OUTPUT_COLUMNS = ("article", "index", "start", "end", "text", "label", "score", "scores", "flags")
MAP_RETRIES = 3


def record_sentence_rows(record: dict) -> list[dict]:
    """Ray flat_map: an article record -> its sentences (the single-process segmentation)."""
    return sentence_rows(article_of(record))


class SentencePredictor:
    """A Ray Data actor: loads the checkpoint once, then labels batches of sentence rows."""

    def __init__(self, checkpoint: str, backend: str | None = None, threads: int = 1):
        from models.inference import load

        # One core per actor: Ray runs several actors side by side.
        self.classifier = load(checkpoint, backend=backend, threads=threads)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        predictions = self.classifier.predict(texts)
        out = {c: list(batch[c]) for c in ("article", "index", "start", "end", "text")}
        out["label"] = [p.label for p in predictions]
        out["score"] = [p.score for p in predictions]
        out["scores"] = [p.scores for p in predictions]
        out["flags"] = [list(p.flags) for p in predictions]
        return out


def predict_archive_ray(
    checkpoint: str | Path,
    inputs: str,
    output: str | Path,
    *,
    backend: str | None = None,
    workers: int | None = None,
    address: str | None = None,
    batch_size: int = 256,
    predictor=SentencePredictor,
) -> dict:
    """Label every sentence of every article under `inputs` into a Parquet folder `output`.

    Returns {"articles", "sentences", "bad_lines", "workers"}. The folder is written under a
    temporary name and renamed when complete, so a failed run never leaves a partial result
    that looks finished."""
    import ray
    import ray.data

    start_ray(address, workers)
    workers = workers or max(1, int(ray.available_resources().get("CPU", 2)) - 1)
    context = ray.data.DataContext.get_current()
    context.retried_map_errors = True
    context.max_map_retries = MAP_RETRIES

    records = read_article_records(inputs).filter(is_article)
    sentences = records.flat_map(record_sentence_rows)
    labelled = sentences.map_batches(
        predictor,
        fn_constructor_kwargs={"checkpoint": str(checkpoint), "backend": backend},
        batch_size=batch_size,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    counts = write_parquet_atomically(labelled.select_columns(list(OUTPUT_COLUMNS)), output)
    return {**counts, "bad_lines": bad_records(inputs), "workers": workers}
