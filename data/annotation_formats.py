"""Sentence-level annotation tasks for Label Studio, doccano and Prodigy, out and back in.

Export turns parley sentence rows (`text`, optional `label`, and metadata such as `doc_id`,
`index`, `start`, `end`, `id`) into each tool's task format: an existing label becomes an
annotation, a model prediction becomes a pre-annotation. Every key of a row other than `text`
and `label` travels with the task as metadata and comes back on import, so a round trip through
any of the tools loses nothing.

Import reads what the tool exports and returns parley labelled rows: `text`, `label`, then the
metadata keys. Items nobody labelled, and items the annotator cancelled, rejected or ignored,
carry no label and are skipped; everything else that is not one schema label is an error naming
the file and the line or item.

- labelstudio: written as one JSON array; a prediction becomes `predictions[].result[].value
  .choices` with its `score`; import reads the JSON export (`annotations[].result`).
- doccano: JSONL for a text-classification project; the label, or else the predicted one, goes
  in `label: [...]`, the model's label and score in `model_label`/`model_score` columns; import
  reads the JSONL export.
- prodigy: JSONL choice tasks for `textcat.manual`; the label, or else the predicted one, is
  pre-selected in `accept`, the model's label and score go in `meta`; import reads
  `prodigy db-out`.

Predictions are passed in by the caller as objects with `.label` and `.score` (parley's
`models.base.Prediction`), so this module never imports `models`.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from data.labels import LABELS, LabelError, check_label

FORMATS: tuple[str, ...] = ("labelstudio", "doccano", "prodigy")

# Names of the Label Studio control and object tags; `labelstudio_config()` declares them.
LS_FROM_NAME = "label"
LS_TO_NAME = "text"
MODEL_VERSION = "parley"

# Task keys parley adds next to the row's metadata; a row already using one cannot be carried.
MODEL_LABEL = "model_label"
MODEL_SCORE = "model_score"
# doccano exports its own example number as `id`, so parley's sentence id travels under this.
DOCCANO_SENTENCE_ID = "sentence_id"
DOCCANO_OWN_KEYS = ("id", "text", "label", "Comments")

PRODIGY_SKIPPED_ANSWERS = ("reject", "ignore")


class AnnotationFormatError(ValueError):
    """A task that cannot be exported or imported; the message names the row, item or line."""


class PredictionLike(Protocol):
    label: str
    score: float


# --- export ---


def _row_where(row: dict, position: int) -> str:
    sentence_id = row.get("id") if isinstance(row, dict) else None
    return f"row {position}" + (f" (id {sentence_id!r})" if sentence_id is not None else "")


def _row_label(row: dict, position: int) -> str | None:
    """The row's schema label, None when unlabelled; a non-schema label is an error."""
    if not isinstance(row, dict):
        raise AnnotationFormatError(f"row {position}: expected a dict, got {type(row).__name__}")
    if not isinstance(row.get("text"), str):
        raise AnnotationFormatError(f"{_row_where(row, position)}: field 'text' is not a string")
    if row.get("label") is None:
        return None
    try:
        return check_label(row["label"])
    except LabelError as err:
        raise AnnotationFormatError(f"{_row_where(row, position)}: {err}") from None


def _metadata(row: dict, position: int, reserved: tuple[str, ...] = ()) -> dict:
    """Every key but `text` and `label`: what must come back unchanged on import."""
    meta = {k: v for k, v in row.items() if k not in ("text", "label")}
    clash = [k for k in reserved if k in meta]
    if clash:
        raise AnnotationFormatError(
            f"{_row_where(row, position)}: field {clash[0]!r} is reserved by the export format"
        )
    return meta


def _check_predictions(rows: list[dict], predictions: list[PredictionLike] | None) -> list:
    if predictions is None:
        return [None] * len(rows)
    if len(predictions) != len(rows):
        raise AnnotationFormatError(
            f"{len(predictions)} predictions for {len(rows)} rows; pass one per row"
        )
    for position, prediction in enumerate(predictions):
        try:
            check_label(getattr(prediction, "label", None))
        except LabelError as err:
            raise AnnotationFormatError(f"prediction {position}: {err}") from None
    return list(predictions)


def _ls_choice(label: str) -> dict:
    return {
        "from_name": LS_FROM_NAME,
        "to_name": LS_TO_NAME,
        "type": "choices",
        "value": {"choices": [label]},
    }


def _ls_task(row: dict, position: int, prediction: PredictionLike | None) -> dict:
    label = _row_label(row, position)
    task: dict = {"data": {"text": row["text"], **_metadata(row, position)}}
    if label is not None:
        task["annotations"] = [{"result": [_ls_choice(label)]}]
    if prediction is not None:
        task["predictions"] = [
            {
                "model_version": MODEL_VERSION,
                "score": float(prediction.score),
                "result": [_ls_choice(prediction.label)],
            }
        ]
    return task


def to_labelstudio(
    rows: list[dict], predictions: list[PredictionLike] | None = None
) -> list[dict]:
    """Label Studio tasks (write them as one JSON array): metadata sits in `data` next to
    `text`; a label becomes an `annotations` entry, a prediction a `predictions` entry."""
    return [
        _ls_task(row, position, prediction)
        for position, (row, prediction) in enumerate(
            zip(rows, _check_predictions(rows, predictions), strict=True)
        )
    ]


def labelstudio_config() -> str:
    """The labelling interface that matches the exported tasks: one required single choice."""
    choices = "\n".join(f'    <Choice value="{label}"/>' for label in LABELS)
    return (
        "<View>\n"
        f'  <Text name="{LS_TO_NAME}" value="$text"/>\n'
        f'  <Choices name="{LS_FROM_NAME}" toName="{LS_TO_NAME}" choice="single" '
        'required="true" showInline="true">\n'
        f"{choices}\n"
        "  </Choices>\n"
        "</View>\n"
    )


def _model_fields(prediction: PredictionLike | None) -> dict:
    if prediction is None:
        return {}
    # Rounded: these are shown to the annotator, never read back as data.
    return {MODEL_LABEL: prediction.label, MODEL_SCORE: round(float(prediction.score), 4)}


def _doccano_task(row: dict, position: int, prediction: PredictionLike | None) -> dict:
    label = _row_label(row, position)
    meta = _metadata(row, position, (DOCCANO_SENTENCE_ID, MODEL_LABEL, MODEL_SCORE, "Comments"))
    if "id" in meta:
        meta[DOCCANO_SENTENCE_ID] = meta.pop("id")
    if label is None and prediction is not None:
        label = prediction.label
    return {
        "text": row["text"],
        "label": [] if label is None else [label],
        **meta,
        **_model_fields(prediction),
    }


def to_doccano(rows: list[dict], predictions: list[PredictionLike] | None = None) -> list[dict]:
    """doccano text-classification lines (write as JSONL): `label` holds the existing label, or
    else the predicted one for the annotator to confirm; metadata are extra columns, parley's
    `id` renamed `sentence_id` because doccano's export uses `id` for its own number."""
    return [
        _doccano_task(row, position, prediction)
        for position, (row, prediction) in enumerate(
            zip(rows, _check_predictions(rows, predictions), strict=True)
        )
    ]


def _prodigy_task(row: dict, position: int, prediction: PredictionLike | None) -> dict:
    label = _row_label(row, position)
    meta = {**_metadata(row, position, (MODEL_LABEL, MODEL_SCORE)), **_model_fields(prediction)}
    if label is None and prediction is not None:
        label = prediction.label
    return {
        "text": row["text"],
        "options": [{"id": lab, "text": lab} for lab in LABELS],
        "accept": [] if label is None else [label],
        "meta": meta,
    }


def to_prodigy(rows: list[dict], predictions: list[PredictionLike] | None = None) -> list[dict]:
    """Prodigy choice tasks for `textcat.manual` (write as JSONL): all five labels as `options`,
    the existing or predicted label pre-selected in `accept`, metadata and the model's label and
    score in `meta`, which Prodigy shows with the task and keeps in `db-out`."""
    return [
        _prodigy_task(row, position, prediction)
        for position, (row, prediction) in enumerate(
            zip(rows, _check_predictions(rows, predictions), strict=True)
        )
    ]


_EXPORTERS = {"labelstudio": to_labelstudio, "doccano": to_doccano, "prodigy": to_prodigy}


def _check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise AnnotationFormatError(f"unknown annotation format {fmt!r}; use {', '.join(FORMATS)}")
    return fmt


def export_tasks(
    rows: list[dict], fmt: str, predictions: list[PredictionLike] | None = None
) -> list[dict]:
    """Tasks for `fmt` (one of FORMATS), one per row, in row order."""
    return _EXPORTERS[_check_format(fmt)](rows, predictions)


def write_tasks(tasks: list[dict], path: str | Path, fmt: str) -> Path:
    """Write tasks the way the tool imports them: a JSON array for Label Studio, else JSONL."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _check_format(fmt) == "labelstudio":
        text = json.dumps(tasks, ensure_ascii=False, indent=1) + "\n"
    else:
        text = "".join(json.dumps(task, ensure_ascii=False) + "\n" for task in tasks)
    path.write_text(text, encoding="utf-8")
    return path


# --- import ---


def _decode_line(raw: bytes, path: Path, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AnnotationFormatError(f"{path}:{number}: not valid UTF-8") from None


def _jsonl_objects(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for each non-blank line; bad lines name the file and line."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            line = _decode_line(raw, path, number)
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as err:
                raise AnnotationFormatError(
                    f"{path}:{number}: not valid JSON ({err.msg})"
                ) from None
            if not isinstance(obj, dict):
                raise AnnotationFormatError(
                    f"{path}:{number}: expected a JSON object, got {type(obj).__name__}"
                )
            yield number, obj


def _decode_file(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise AnnotationFormatError(f"{path}:{line}: not valid UTF-8") from None


def _json_array(path: Path) -> list:
    text = _decode_file(path)
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as err:
        raise AnnotationFormatError(
            f"{path}:{err.lineno}: not valid JSON ({err.msg}, column {err.colno})"
        ) from None
    if not isinstance(tasks, list):
        raise AnnotationFormatError(
            f"{path}: expected a JSON array of tasks (Label Studio's JSON export), "
            f"got {type(tasks).__name__}"
        )
    return tasks


def _one_label(labels: list, where: str) -> str:
    """The single schema label of an answer; several are refused (parley is single-label)."""
    if len(labels) > 1:
        raise AnnotationFormatError(
            f"{where}: {len(labels)} labels {labels!r}; parley takes one label per sentence"
        )
    if not labels:
        raise AnnotationFormatError(f"{where}: accepted with no label chosen")
    try:
        return check_label(labels[0])
    except LabelError as err:
        raise AnnotationFormatError(f"{where}: {err}") from None


def _text(obj: dict, where: str) -> str:
    text = obj.get("text")
    if not isinstance(text, str):
        raise AnnotationFormatError(f"{where}: field 'text' is missing or not a string")
    return text


def _labelled_row(text: str, label: str, meta: dict) -> dict:
    # A foreign task's own `text`/`label` metadata must not override the answer.
    row = {"text": text, "label": label}
    row.update((k, v) for k, v in meta.items() if k not in row)
    return row


def _ls_where(path: Path, position: int, task: dict) -> str:
    task_id = task.get("id") if isinstance(task, dict) else None
    return f"{path}: task {position}" + (f" (id {task_id})" if task_id is not None else "")


def _ls_annotation_labels(annotation: dict, where: str) -> list:
    """Every choice an annotation made, over all its `choices` results."""
    results = annotation.get("result")
    if not isinstance(results, list):
        raise AnnotationFormatError(f"{where}: annotation has no 'result' list")
    labels = []
    for result in results:
        if isinstance(result, dict) and result.get("type") == "choices":
            choices = (result.get("value") or {}).get("choices")
            if not isinstance(choices, list):
                raise AnnotationFormatError(f"{where}: choices result without a 'choices' list")
            labels += choices
    return labels


def _ls_label(task: dict, where: str) -> str | None:
    """The task's label; None when no annotation stands (none made, or all cancelled)."""
    annotations = task.get("annotations") or []
    if not isinstance(annotations, list):
        raise AnnotationFormatError(f"{where}: 'annotations' is not a list")
    kept = [a for a in annotations if isinstance(a, dict) and not a.get("was_cancelled")]
    labels = {_one_label(_ls_annotation_labels(a, where), where) for a in kept}
    if len(labels) > 1:
        # Several annotators disagreeing is for adjudication, not for an importer to settle.
        raise AnnotationFormatError(
            f"{where}: annotators disagree ({', '.join(sorted(labels))}); "
            "adjudicate in Label Studio or export one annotator's work"
        )
    return labels.pop() if labels else None


def _read_labelstudio(path: Path) -> list[dict]:
    rows = []
    for position, task in enumerate(_json_array(path)):
        where = _ls_where(path, position, task)
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise AnnotationFormatError(f"{where}: expected a task object with a 'data' object")
        label = _ls_label(task, where)
        if label is not None:
            data = task["data"]
            meta = {k: v for k, v in data.items() if k != "text"}
            rows.append(_labelled_row(_text(data, where), label, meta))
    return rows


def _doccano_row(obj: dict, where: str) -> dict | None:
    labels = obj.get("label", [])
    labels = [labels] if isinstance(labels, str) else labels
    if not isinstance(labels, list):
        raise AnnotationFormatError(f"{where}: field 'label' is not a list")
    if not labels:
        return None
    meta = {k: v for k, v in obj.items() if k not in (*DOCCANO_OWN_KEYS, MODEL_LABEL, MODEL_SCORE)}
    if DOCCANO_SENTENCE_ID in meta:
        meta = {("id" if k == DOCCANO_SENTENCE_ID else k): v for k, v in meta.items()}
    return _labelled_row(_text(obj, where), _one_label(labels, where), meta)


def _read_doccano(path: Path) -> list[dict]:
    rows = (_doccano_row(obj, f"{path}:{number}") for number, obj in _jsonl_objects(path))
    return [row for row in rows if row is not None]


def _prodigy_labels(obj: dict, where: str) -> list:
    """Choice tasks answer with `accept` (the chosen options); binary ones with `label`."""
    if "options" in obj:
        accepted = obj.get("accept")
        if not isinstance(accepted, list):
            raise AnnotationFormatError(f"{where}: choice task without an 'accept' list")
        return accepted
    if "label" in obj:
        return [obj["label"]]
    raise AnnotationFormatError(f"{where}: neither 'options'/'accept' nor 'label' present")


def _prodigy_row(obj: dict, where: str) -> dict | None:
    answer = obj.get("answer")
    if answer in PRODIGY_SKIPPED_ANSWERS:
        return None
    if answer != "accept":
        raise AnnotationFormatError(
            f"{where}: answer {answer!r} is not accept, reject or ignore "
            "(import annotations from `prodigy db-out`, not the exported tasks)"
        )
    meta = obj.get("meta") or {}
    if not isinstance(meta, dict):
        raise AnnotationFormatError(f"{where}: field 'meta' is not an object")
    meta = {k: v for k, v in meta.items() if k not in (MODEL_LABEL, MODEL_SCORE)}
    return _labelled_row(_text(obj, where), _one_label(_prodigy_labels(obj, where), where), meta)


def _read_prodigy(path: Path) -> list[dict]:
    rows = (_prodigy_row(obj, f"{path}:{number}") for number, obj in _jsonl_objects(path))
    return [row for row in rows if row is not None]


_READERS = {"labelstudio": _read_labelstudio, "doccano": _read_doccano, "prodigy": _read_prodigy}


def read_tasks(path: str | Path, fmt: str) -> list[dict]:
    """Labelled rows (`text`, `label`, then the exported metadata) from a tool's export.

    Unlabelled, cancelled (Label Studio), and rejected or ignored (Prodigy) items are skipped.
    Several labels on one item, a label outside the schema, or malformed JSON are
    AnnotationFormatError naming the file and the line (JSONL) or task (Label Studio)."""
    path = Path(path)
    reader = _READERS[_check_format(fmt)]
    if not path.is_file():
        raise AnnotationFormatError(f"{path}: no such file")
    return reader(path)
