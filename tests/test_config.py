from pathlib import Path

import pytest

from train.config import ConfigError, load_config, parse_config, resolved

CONFIGS = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_config_loads(path):
    config = load_config(path)
    assert config.name == path.stem
    assert resolved(parse_config(resolved(config))) == resolved(config)  # round trip


def test_typo_fails_naming_the_dotted_key(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\nmodel:\n  kind: baseline\n  C: 1.0\n  hash_bitz: 3\ntrain:\n  epocs: 2\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "model.hash_bitz: Extra inputs are not permitted" in str(err.value)
    assert "train.epocs: Extra inputs are not permitted" in str(err.value)


def test_set_overrides_and_bad_values(tmp_path):
    base = CONFIGS[0]
    config = load_config(base, ["seed=7", "data.dev_fraction=0.2"])
    assert (config.seed, config.data.dev_fraction) == (7, 0.2)
    with pytest.raises(ConfigError, match="data.dev_fraction"):
        load_config(base, ["data.dev_fraction=0.9"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(base, ["seed"])


def test_unknown_model_kind_is_named(tmp_path):
    with pytest.raises(ConfigError, match="model"):
        parse_config({"name": "x", "model": {"kind": "svm"}})
