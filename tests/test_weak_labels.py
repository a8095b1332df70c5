import json

import pytest

from data.build import SplitSettings, build_dataset, read_split
from data.labels import LABELS
from data.weak_labels import LABELING_FUNCTIONS, majority_label, votes
from train.weak import function_report, silver_rows


def fired(text: str) -> dict[str, str]:
    return {lf.name: v for lf, v in zip(LABELING_FUNCTIONS, votes(text), strict=True) if v}


def test_every_function_votes_a_schema_label():
    assert {lf.label for lf in LABELING_FUNCTIONS} <= set(LABELS)


@pytest.mark.parametrize(
    ("text", "name", "fires"),
    [
        ("Ankara threatened to impose duties on Greek cotton.", "threat_cue", True),
        ("The minister denied threatening the unions.", "threat_cue", False),
        ("Floods threaten crops across the delta.", "threat_cue", False),
        ("The union urged the board to reopen talks.", "demand_cue", True),
        ("Demand for copper rose 3 pct in March.", "demand_cue", False),
        ("Lisbon rejected the demand that it pay.", "demand_cue", False),
        ("Seoul agreed to cut the beef tariff.", "concession_cue", True),
        ("The firm won a mining concession in Mali.", "concession_cue", False),
        ("Tokyo refused to offer any concessions.", "refused_act_is_claim", True),
        ("Analysts said prices would fall.", "unnamed_analysts_are_other", True),
        ("Analysts said prices would fall.", "attributed_assertion", False),
    ],
)
def test_cues_and_guards(text, name, fires):
    assert (name in fired(text)) is fires


def test_majority_vote_breaks_ties_by_precedence():
    assert majority_label(["claim", "threat", None]) == "threat"
    assert majority_label(["claim", "claim", "threat"]) == "claim"
    assert majority_label([None, None]) is None


def test_function_report_on_a_hand_example():
    texts = [
        "Ankara threatened to impose duties.",
        "Demand for oil rose.",
        "The union urged talks, a spokesman said.",
    ]
    report = function_report(texts, ["threat", "other", "demand"])
    threat = report["functions"]["threat_cue"]
    assert threat["coverage"] == pytest.approx(1 / 3) and threat["accuracy"] == 1.0
    demand = report["functions"]["demand_cue"]
    assert demand["fires_on"] == 1 and demand["accuracy"] == 1.0
    # the third sentence is also an attributed assertion: overlap and conflict with demand_cue
    assert demand["overlap"] == pytest.approx(1 / 3) and demand["conflict"] == pytest.approx(1 / 3)
    assert report["summary"]["majority_coverage"] == 1.0


def test_silver_rows_drop_sentences_where_all_abstain():
    rows = [
        {"text": "Seoul agreed to cut the beef tariff.", "doc_id": "a"},
        {"text": "", "doc_id": "b"},
    ]
    (silver,) = silver_rows(rows)
    assert silver["label"] == "concession" and silver["source"] == "silver"


def test_train_only_rows_join_train_and_keep_dev_test_gold(tiny_corpus, tmp_path):
    silver = tmp_path / "silver.jsonl"
    dev_before = None
    build_dataset([tiny_corpus], tmp_path / "gold")
    dev_before = read_split(tmp_path / "gold", "dev")
    held_out_text = dev_before[0]["text"]
    silver.write_text(
        "\n".join(
            json.dumps(r)
            for r in [
                {"text": "Oslo agreed to lift the quota.", "label": "concession", "doc_id": "s1"},
                {"text": held_out_text.upper(), "label": "other", "doc_id": "s2"},  # would leak
            ]
        )
        + "\n"
    )
    manifest = build_dataset([tiny_corpus], tmp_path / "ds", SplitSettings(), [silver])
    train = [r["text"] for r in read_split(tmp_path / "ds", "train")]
    assert "Oslo agreed to lift the quota." in train
    assert held_out_text.upper() not in train
    assert read_split(tmp_path / "ds", "dev") == dev_before
    assert manifest["dropped_duplicates"]["train_only_matching_held_out"] == 1
