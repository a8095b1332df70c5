"""Data-parallel training with accelerate: two CPU processes reach the single-process weights."""

import subprocess
import sys

import pytest
import yaml

from tests.tiny_models import freeze_lower_layer, tiny_transformer_config, tiny_transformer_setup
from train.distributed import launch_command, shard

pytest.importorskip("accelerate")


def test_shards_cover_a_batch_once():
    batch = list(range(7))
    parts = [shard(batch, rank, 3) for rank in range(3)]
    assert sorted(i for part in parts for i in part) == batch
    assert shard([5], 1, 2) == []  # an empty shard is handled by the loop, not dropped


def test_launch_command_names_the_training_command():
    cmd = launch_command(["train", "configs/minilm.yaml", "--set", "seed=3"], 2)
    assert cmd[1:3] == ["launch", "--multi_gpu"]
    assert cmd[cmd.index("--num_processes") + 1] == "2"
    assert cmd[-5:] == ["train.cli", "train", "configs/minilm.yaml", "--set", "seed=3"]
    with pytest.raises(ValueError, match="at least 2"):
        launch_command(["train", "x.yaml"], 1)


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(folder / "model" / "model.safetensors")


@pytest.mark.parametrize("frozen_below", [False, True], ids=["all-layers", "cached-lower-layer"])
def test_two_processes_match_one(tmp_path, frozen_below):
    corpus, bert = tiny_transformer_setup(tmp_path, layers=2 if frozen_below else 1)
    # Class weights on and an odd batch size, so weighting and uneven shards are exercised.
    raw = tiny_transformer_config(corpus, bert, tmp_path, epochs=6, batch_size=7, patience=6)
    raw["train"]["class_weights"] = True
    if frozen_below:
        freeze_lower_layer(raw)
    config_path = tmp_path / "tiny.yaml"
    config_path.write_text(yaml.safe_dump(raw))
    parley = [sys.executable, "-m", "train.cli"]
    single = subprocess.run(
        [*parley, "train", str(config_path), "--output", str(tmp_path / "one")],
        capture_output=True,
        text=True,
    )
    assert single.returncode == 0, single.stderr[-2000:]
    launched = subprocess.run(
        [*parley, "train", str(config_path), "--output", str(tmp_path / "two")]
        + ["--launcher", "accelerate", "--processes", "2"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert launched.stdout.count("checkpoint:") == 1  # one report, from the parent

    one, two = _weights(tmp_path / "one"), _weights(tmp_path / "two")
    assert one.keys() == two.keys()
    worst = max(float((one[k] - two[k]).abs().max()) for k in one)
    assert worst < 1e-4, f"largest weight difference {worst}"
    # Written once, by the main process: one complete checkpoint and no leftover work folder.
    assert (tmp_path / "two" / "COMPLETE").is_file()
    assert not list(tmp_path.glob(".two*"))
    metrics = yaml.safe_load((tmp_path / "two" / "metrics.json").read_text())
    assert metrics["training"]["processes"] == 2
