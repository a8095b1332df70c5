import json

import pytest

from data.annotation_formats import (
    FORMATS,
    AnnotationFormatError,
    export_tasks,
    labelstudio_config,
    read_tasks,
    to_doccano,
    to_labelstudio,
    to_prodigy,
    write_tasks,
)
from data.labels import LABELS
from models.base import Prediction

ROWS = [
    {
        "text": "Beijing vowed to retaliate if the tariffs take effect.",
        "label": "threat",
        "doc_id": "trade-a001",
        "index": 3,
        "start": 120,
        "end": 174,
        "id": "trade-a001#s003",
    },
    {
        "text": "The union \u201cdemands\u201d a 4% raise \u2014 now.",
        "label": "demand",
        "doc_id": "lab-e002",
        "index": 0,
        "start": 0,
        "end": 37,
        "id": "lab-e002#s000",
        "domain": "labour",
    },
    # A row as read_labeled gives it: no offsets. It must come back without them, not as nulls.
    {"text": "Talks resumed on Monday.", "label": "other", "doc_id": "x", "id": "x#1"},
]

UNLABELLED = [{k: v for k, v in row.items() if k != "label"} for row in ROWS]


def prediction(label: str, score: float = 0.6) -> Prediction:
    rest = (1 - score) / (len(LABELS) - 1)
    scores = {lab: (score if lab == label else rest) for lab in LABELS}
    return Prediction(label, score, scores)


PREDICTIONS = [prediction("claim", 0.41), prediction("concession", 0.55), prediction("other")]


# --- what each tool does with our file, and what it exports ---


def labelstudio_export(tasks: list[dict], chosen: list[list[str] | None]) -> list[dict]:
    """Label Studio's JSON export: its own ids, and one submitted annotation per task."""
    exported = []
    for number, (task, labels) in enumerate(zip(tasks, chosen, strict=True), start=1):
        result = [
            {
                "id": f"r{number}",
                "from_name": "label",
                "to_name": "text",
                "type": "choices",
                "origin": "manual",
                "value": {"choices": labels},
            }
        ]
        annotation = {
            "id": 100 + number,
            "completed_by": 1,
            "result": result if labels else [],
            "was_cancelled": labels is None,
            "ground_truth": False,
            "lead_time": 3.2,
        }
        exported.append(
            {
                "id": number,
                "data": task["data"],
                "annotations": [annotation],
                "predictions": task.get("predictions", []),
                "meta": {},
                "project": 7,
            }
        )
    return exported


def doccano_export(lines: list[dict]) -> list[dict]:
    """doccano keeps `text` and `label`, stores other columns as metadata, and exports
    {"id", "text", **meta, "label", "Comments"} (backend/data_export/models.py)."""
    out = []
    for number, line in enumerate(lines, start=1):
        meta = {k: v for k, v in line.items() if k not in ("text", "label")}
        out.append({"id": number, "text": line["text"], **meta, "label": line["label"]})
        out[-1]["Comments"] = []
    return out


def prodigy_db_out(tasks: list[dict], answers: list[str]) -> list[dict]:
    """`prodigy db-out`: the task as served, plus hashes, the view and the answer."""
    return [
        {
            **task,
            "_input_hash": 1000 + i,
            "_task_hash": 2000 + i,
            "_view_id": "choice",
            "answer": answer,
            "_timestamp": 1700000000 + i,
            "_annotator_id": "parley-alice",
            "_session_id": "parley-alice",
        }
        for i, (task, answer) in enumerate(zip(tasks, answers, strict=True))
    ]


def write_json(path, tasks: list[dict]):
    path.write_text(json.dumps(tasks, indent=2), encoding="utf-8")
    return path


def write_jsonl(path, lines: list[dict]):
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def round_trip(tmp_path, fmt: str, rows: list[dict], predictions=None) -> list[dict]:
    """Export, let the tool keep every label shown (annotator accepts), export back, import."""
    tasks = export_tasks(rows, fmt, predictions)
    path = write_tasks(tasks, tmp_path / f"tasks-{fmt}", fmt)
    served = json.loads(path.read_text()) if fmt == "labelstudio" else read_jsonl(path)
    if fmt == "labelstudio":
        shown = predictions or [None] * len(rows)
        pairs = zip(rows, shown, strict=True)
        chosen = [[r["label"]] if "label" in r else [p.label] for r, p in pairs]
        exported = labelstudio_export(served, chosen)
        return read_tasks(write_json(tmp_path / "export.json", exported), fmt)
    if fmt == "doccano":
        return read_tasks(write_jsonl(tmp_path / "export.jsonl", doccano_export(served)), fmt)
    exported = prodigy_db_out(served, ["accept"] * len(served))
    return read_tasks(write_jsonl(tmp_path / "export.jsonl", exported), fmt)


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- round trips ---


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_labelled_rows_loses_nothing(tmp_path, fmt):
    assert round_trip(tmp_path, fmt, ROWS) == ROWS


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_with_predictions_keeps_labels_and_metadata(tmp_path, fmt):
    # Existing labels win over predictions; the model's fields never leak into the rows.
    assert round_trip(tmp_path, fmt, ROWS, PREDICTIONS) == ROWS


@pytest.mark.parametrize("fmt", FORMATS)
def test_accepted_pre_annotations_come_back_as_labels(tmp_path, fmt):
    rows = round_trip(tmp_path, fmt, UNLABELLED, PREDICTIONS)
    assert [r["label"] for r in rows] == [p.label for p in PREDICTIONS]
    assert [{k: v for k, v in r.items() if k != "label"} for r in rows] == UNLABELLED


# --- export shapes ---


def test_labelstudio_tasks_hold_annotations_and_predictions():
    tasks = to_labelstudio([ROWS[0], UNLABELLED[1]], PREDICTIONS[:2])
    assert tasks[0]["data"] == {k: v for k, v in ROWS[0].items() if k != "label"}
    assert tasks[0]["annotations"][0]["result"][0]["value"] == {"choices": ["threat"]}
    assert "annotations" not in tasks[1]
    (pred,) = tasks[1]["predictions"]
    assert pred["score"] == pytest.approx(0.55)
    assert pred["result"][0]["value"] == {"choices": ["concession"]}
    assert pred["result"][0]["from_name"] == "label" and pred["result"][0]["to_name"] == "text"


def test_labelstudio_config_declares_every_label_once():
    config = labelstudio_config()
    assert all(config.count(f'<Choice value="{label}"/>') == 1 for label in LABELS)
    assert 'choice="single"' in config and 'value="$text"' in config


def test_doccano_prefills_prediction_and_renames_id():
    lines = to_doccano([ROWS[0], UNLABELLED[1]], PREDICTIONS[:2])
    assert lines[0]["label"] == ["threat"] and lines[1]["label"] == ["concession"]
    assert "id" not in lines[0] and lines[0]["sentence_id"] == "trade-a001#s003"
    assert lines[1]["model_label"] == "concession" and lines[1]["model_score"] == 0.55
    assert to_doccano(UNLABELLED[:1])[0]["label"] == []


def test_prodigy_tasks_offer_all_labels_with_prediction_in_meta():
    (task,) = to_prodigy(UNLABELLED[:1], PREDICTIONS[:1])
    assert [o["id"] for o in task["options"]] == list(LABELS)
    assert task["accept"] == ["claim"]
    assert task["meta"]["model_score"] == 0.41 and task["meta"]["doc_id"] == "trade-a001"
    assert "answer" not in task


def test_labelstudio_file_is_one_json_array_and_others_jsonl(tmp_path):
    ls = write_tasks(export_tasks(ROWS, "labelstudio"), tmp_path / "ls.json", "labelstudio")
    assert len(json.loads(ls.read_text())) == len(ROWS)
    dc = write_tasks(export_tasks(ROWS, "doccano"), tmp_path / "dc.jsonl", "doccano")
    assert len(dc.read_text().splitlines()) == len(ROWS)


def test_export_refuses_bad_input():
    with pytest.raises(AnnotationFormatError, match=r"row 1 \(id 'b'\): unknown label 'bluff'"):
        export_tasks([ROWS[0], {"text": "x", "label": "bluff", "id": "b"}], "prodigy")
    with pytest.raises(AnnotationFormatError, match="2 predictions for 3 rows"):
        to_labelstudio(ROWS, PREDICTIONS[:2])
    with pytest.raises(AnnotationFormatError, match="unknown annotation format 'brat'"):
        export_tasks(ROWS, "brat")
    with pytest.raises(AnnotationFormatError, match="'model_score' is reserved"):
        to_prodigy([{**ROWS[0], "model_score": 1}])


# --- import: skipped items ---


def test_labelstudio_cancelled_and_unannotated_tasks_are_skipped(tmp_path):
    tasks = to_labelstudio(UNLABELLED)
    exported = labelstudio_export(tasks, [["claim"], None, ["other"]])
    exported[2]["annotations"] = []
    assert read_tasks(write_json(tmp_path / "e.json", exported), "labelstudio") == [
        {**UNLABELLED[0], "label": "claim"}
    ]


def test_labelstudio_cancelled_annotation_does_not_hide_a_submitted_one(tmp_path):
    exported = labelstudio_export(to_labelstudio(UNLABELLED[:1]), [["demand"]])
    cancelled = {"id": 9, "result": [], "was_cancelled": True}
    exported[0]["annotations"].insert(0, cancelled)
    rows = read_tasks(write_json(tmp_path / "e.json", exported), "labelstudio")
    assert [r["label"] for r in rows] == ["demand"]


def test_prodigy_rejected_and_ignored_answers_are_skipped(tmp_path):
    exported = prodigy_db_out(to_prodigy(ROWS), ["reject", "accept", "ignore"])
    rows = read_tasks(write_jsonl(tmp_path / "e.jsonl", exported), "prodigy")
    assert rows == [ROWS[1]]


def test_prodigy_binary_accept_is_read(tmp_path):
    line = {"text": "They gave ground.", "label": "concession", "answer": "accept", "meta": {}}
    rows = read_tasks(write_jsonl(tmp_path / "e.jsonl", [line]), "prodigy")
    assert rows == [{"text": "They gave ground.", "label": "concession"}]


def test_doccano_unlabelled_lines_are_skipped(tmp_path):
    exported = doccano_export(to_doccano([ROWS[0], UNLABELLED[1]]))
    rows = read_tasks(write_jsonl(tmp_path / "e.jsonl", exported), "doccano")
    assert rows == [ROWS[0]]


# --- import: errors name the item ---


def test_multi_label_answers_are_refused_naming_the_item(tmp_path):
    exported = labelstudio_export(
        to_labelstudio(UNLABELLED), [["claim"], ["threat", "demand"], []]
    )
    path = write_json(tmp_path / "ls.json", exported)
    with pytest.raises(AnnotationFormatError, match=r"ls\.json: task 1 \(id 2\): 2 labels"):
        read_tasks(path, "labelstudio")

    lines = doccano_export(to_doccano(ROWS))
    lines[2]["label"] = ["other", "claim"]
    with pytest.raises(AnnotationFormatError, match=r"dc\.jsonl:3: 2 labels"):
        read_tasks(write_jsonl(tmp_path / "dc.jsonl", lines), "doccano")

    served = to_prodigy(ROWS)
    served[0]["accept"] = ["threat", "claim"]
    with pytest.raises(AnnotationFormatError, match=r"pg\.jsonl:1: 2 labels"):
        read_tasks(
            write_jsonl(tmp_path / "pg.jsonl", prodigy_db_out(served, ["accept"] * 3)), "prodigy"
        )


def test_multiple_choices_results_in_one_annotation_are_multi_label(tmp_path):
    exported = labelstudio_export(to_labelstudio(UNLABELLED[:1]), [["claim"]])
    result = exported[0]["annotations"][0]["result"]
    result.append({**result[0], "value": {"choices": ["threat"]}})
    with pytest.raises(AnnotationFormatError, match=r"task 0 \(id 1\): 2 labels"):
        read_tasks(write_json(tmp_path / "e.json", exported), "labelstudio")


@pytest.mark.parametrize("fmt", ["doccano", "prodigy"])
def test_unknown_label_names_file_and_line(tmp_path, fmt):
    lines = (
        doccano_export(to_doccano(ROWS))
        if fmt == "doccano"
        else prodigy_db_out(to_prodigy(ROWS), ["accept"] * 3)
    )
    lines[1]["label" if fmt == "doccano" else "accept"] = ["bluff"]
    path = write_jsonl(tmp_path / "e.jsonl", lines)
    with pytest.raises(AnnotationFormatError, match=r"e\.jsonl:2: unknown label 'bluff'"):
        read_tasks(path, fmt)


def test_unknown_label_in_labelstudio_names_the_task(tmp_path):
    exported = labelstudio_export(to_labelstudio(UNLABELLED[:2]), [["claim"], ["Threat"]])
    with pytest.raises(AnnotationFormatError, match=r"task 1 \(id 2\): unknown label 'Threat'"):
        read_tasks(write_json(tmp_path / "e.json", exported), "labelstudio")


def test_disagreeing_labelstudio_annotators_are_an_error(tmp_path):
    exported = labelstudio_export(to_labelstudio(UNLABELLED[:1]), [["claim"]])
    second = json.loads(json.dumps(exported[0]["annotations"][0]))
    second["result"][0]["value"]["choices"] = ["threat"]
    exported[0]["annotations"].append(second)
    with pytest.raises(AnnotationFormatError, match="annotators disagree"):
        read_tasks(write_json(tmp_path / "e.json", exported), "labelstudio")


@pytest.mark.parametrize("fmt", ["doccano", "prodigy"])
def test_malformed_jsonl_names_file_and_line(tmp_path, fmt):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "a", "label": "claim", "answer": "accept"}\n\n{"text": oops\n')
    with pytest.raises(AnnotationFormatError, match=r"bad\.jsonl:3: not valid JSON"):
        read_tasks(path, fmt)


def test_malformed_labelstudio_json_names_file_and_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"data": {"text": "a"}},\n  {"data": {"text": "b"}\n]\n')
    with pytest.raises(AnnotationFormatError, match=r"bad\.json:4: not valid JSON"):
        read_tasks(path, "labelstudio")


def test_prodigy_tasks_without_an_answer_are_not_annotations(tmp_path):
    path = write_jsonl(tmp_path / "tasks.jsonl", to_prodigy(ROWS))
    with pytest.raises(AnnotationFormatError, match=r"tasks\.jsonl:1: answer None"):
        read_tasks(path, "prodigy")


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(AnnotationFormatError, match="no such file"):
        read_tasks(tmp_path / "nope.json", "labelstudio")
    with pytest.raises(AnnotationFormatError, match="unknown annotation format"):
        read_tasks(tmp_path / "nope.json", "csv")
