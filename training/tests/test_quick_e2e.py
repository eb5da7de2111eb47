"""--quick end to end: train a few hundred steps on a subset, export a bundle into a temporary
folder, let the Node evaluator measure it (--write --limit) and then check it (--limit)."""
import json
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from training import data as fdata

REPO = Path(__file__).resolve().parents[2]
LIMIT = 300


def test_quick_training_exports_a_bundle_the_evaluator_reads(tmp_path, node):
    try:
        fdata.find_data_dir(None, allow_download=False)
    except fdata.IdxError as e:
        pytest.skip(f"no local Fashion-MNIST: {e}")
    pub, srv = tmp_path / "public", tmp_path / "server"
    cmd = [sys.executable, "-m", "training.train", "--quick", "--out", str(pub), "--tails", str(srv), "--runs", str(tmp_path / "runs"), "--eval-limit", str(LIMIT)]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "time left" in out.stdout

    manifest = json.loads((pub / "manifest.json").read_text())
    assert manifest["schemaVersion"] == 1 and manifest["bundleId"] == "fmnist"
    assert manifest["training"]["quick"] is True and manifest["training"]["seed"] == 0
    assert len(manifest["levels"]) >= 3
    assert manifest["training"]["ablationLevels"] == ["c4"]
    assert manifest["full"]["accuracy"]["total"] == LIMIT
    # heads, full and exits on the public side; tails only on the server side
    public_files = {p.name for p in pub.iterdir()}
    server_files = {p.name for p in srv.iterdir()}
    assert not any(f.startswith("tail-") for f in public_files)
    for level in manifest["levels"]:
        assert level["head"]["file"] in public_files and level["tail"]["file"] in server_files
        assert [b["bits"] for b in level["bits"]] == list(range(1, 9))
        assert all(b["total"] == LIMIT for b in level["bits"])
        expected = {"whole-network", "frozen-head"} if level["id"] in manifest["training"]["ablationLevels"] else {"whole-network"}
        assert set(level["ablation"]) == expected
        assert level["head"]["bytes"] * 10 <= manifest["full"]["bytes"]
        assert level["elements"] == level["bottleneckShape"][0] * 49
    for e in manifest["earlyExits"]:
        assert e["bottleneck"] == "float" and e["file"] in public_files
    # the evaluator also measured every split x bit-width x exit threshold and WebP offload
    assert len(manifest["splitWithExit"]) == sum(8 * len(e["thresholds"]) for e in manifest["earlyExits"])
    assert all(r["total"] == LIMIT for r in manifest["splitWithExit"])
    assert [w["quality"] for w in manifest["webpOffload"]] == [50] and manifest["webpOffload"][0]["total"] == LIMIT
    for name in public_files | server_files:
        if name.endswith(".onnx"):
            onnx.checker.check_model(onnx.load(str((pub if name in public_files else srv) / name)))
    # the evaluator's check mode agrees with what it wrote
    check = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "tsx"), "server/eval/evalModels.ts", "--bundle", str(pub), "--tails", str(srv), "--limit", str(LIMIT), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "agree" in check.stdout
    # and it notices a tampered manifest
    manifest["levels"][0]["bits"][1]["accuracy"] += 0.01
    (pub / "manifest.json").write_text(json.dumps(manifest))
    bad = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "tsx"), "server/eval/evalModels.ts", "--bundle", str(pub), "--tails", str(srv), "--limit", str(LIMIT), "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert bad.returncode == 1 and "MISMATCH" in bad.stdout
