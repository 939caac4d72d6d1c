"""Configurations described in Python: dicts checked by the simulator's strict loader."""
import os

import pytest

import fp8sim


def test_named_config_and_changes():
    cfg = fp8sim.config("small8", array={"rows": 16, "cols": 4}, dram={"bytes_per_cycle": 32}, name="mine")
    assert cfg["array"]["rows"] == 16 and cfg["array"]["cols"] == 4
    assert cfg["dram"]["bytes_per_cycle"] == 32
    assert cfg["dram"]["latency"] == 40  # kept from small8.toml
    assert cfg["name"] == "mine"
    info = fp8sim.config_info(cfg)
    assert info["name"] == "mine"
    assert info["word_bytes"] == 4  # small8: E4M3 with float32 accumulation, 4-byte words


def test_bad_keys_and_values_name_the_key():
    with pytest.raises(ValueError, match="no_such_key"):
        fp8sim.config("small8", array={"no_such_key": 1})
    with pytest.raises(ValueError, match="dataflow"):
        fp8sim.config("small8", array={"dataflow": "diagonal"})
    with pytest.raises(ValueError, match="no configuration 'nope'"):
        fp8sim.config("nope")


def test_toml_text_round_trip(tmp_path):
    cfg = fp8sim.config("default32")
    p = tmp_path / "c.toml"
    p.write_text(fp8sim.config_toml(cfg))
    assert fp8sim.config(str(p)) == cfg
    assert fp8sim.config(cfg) == cfg


def test_simrun_args():
    args = fp8sim.simrun_args("minilm-l2", config="small8", seq=8, compare=["int8", "e5m2"], quiet=True)
    assert args == ["--workload", "minilm-l2", "--config",
                    os.path.join(fp8sim.SOURCE_DIR, "sim", "configs", "small8.toml"), "--seq", "8", "--compare",
                    "int8,e5m2", "--quiet"]
