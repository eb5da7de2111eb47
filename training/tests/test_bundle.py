"""The committed bundle (public/models/fmnist + server/models/fmnist): the quick form of the
evaluator (1,000 images) must agree with the manifest's 10k figures within a statistical bound,
and the manifest must meet the issue's structure."""
import json
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PUB = REPO / "public" / "models" / "fmnist"
SRV = REPO / "server" / "models" / "fmnist"


def load_manifest():
    f = PUB / "manifest.json"
    if not f.exists():
        pytest.skip("no committed bundle yet")
    return json.loads(f.read_text())


def test_manifest_structure():
    m = load_manifest()
    assert m["schemaVersion"] == 1 and m["bundleId"] == "fmnist"
    assert m["classes"][0] == "T-shirt/top" and len(m["classes"]) == 10
    assert m["input"]["normalization"]["insideGraph"] is True
    assert m["quantization"]["rounding"] == "half-up"
    for level in m["levels"]:
        assert (PUB / level["head"]["file"]).stat().st_size == level["head"]["bytes"]
        assert (SRV / level["tail"]["file"]).stat().st_size == level["tail"]["bytes"]
        assert not (PUB / level["tail"]["file"]).exists(), "tails must not be served to the device"
        for b in level["bits"]:
            assert b["payloadBytes"] == -(-level["elements"] * b["bits"] // 8)
    # every exit reads the float bottleneck of a known level (the device runs it before quantizing)
    level_ids = {level["id"] for level in m["levels"]}
    for e in m["earlyExits"]:
        assert e["bottleneck"] == "float" and e["level"] in level_ids
        assert (PUB / e["file"]).stat().st_size == e["bytes"]
    # split with each exit, every bit-width x threshold, and WebP at the page's default quality,
    # measured end to end by the Node evaluator on all test images
    bits = range(m["quantization"]["minBits"], m["quantization"]["maxBits"] + 1)
    expected = {(e["level"], b, t["threshold"]) for e in m["earlyExits"] for b in bits for t in e["thresholds"]}
    got = [(r["level"], r["bits"], r["threshold"]) for r in m["splitWithExit"]]
    assert sorted(got) == sorted(expected)
    for r in m["splitWithExit"]:
        assert r["total"] == m["dataset"]["testImages"] and 0 <= r["exited"] <= r["total"]
        assert r["accuracy"] == r["correct"] / r["total"] and r["coverage"] == r["exited"] / r["total"]
    assert [w["quality"] for w in m["webpOffload"]] == [50]
    assert m["webpOffload"][0]["total"] == m["dataset"]["testImages"] and m["webpOffload"][0]["encoder"]


def test_quick_evaluator_agrees_with_manifest(node):
    load_manifest()
    out = subprocess.run(
        [str(REPO / "node_modules" / ".bin" / "tsx"), "server/eval/evalModels.ts", "--limit", "1000", "--quiet"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stdout + out.stderr
