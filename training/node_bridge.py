"""Runs ONNX files and the TypeScript codec through Node (onnxruntime-node, tsx), since this
Python has no onnxruntime. Used by the tests and by nothing at training time."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TSX = REPO / "node_modules" / ".bin" / "tsx"


def node_available() -> str | None:
    """None if Node, tsx and onnxruntime-node are usable, else the reason they are not."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not TSX.exists():
        return "node_modules is missing (run npm ci)"
    if not (REPO / "node_modules" / "onnxruntime-node").is_dir():
        return "onnxruntime-node is not installed (run npm ci)"
    return None


def _tsx(args: list[str], timeout: float = 120) -> None:
    out = subprocess.run([str(TSX), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"tsx {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")


def run_onnx(model: str | Path, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Runs an ONNX model with onnxruntime-node on float32 inputs; returns its outputs."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        spec = {"model": str(Path(model).resolve()), "inputs": [], "outDir": str(tmp / "out")}
        for name, arr in inputs.items():
            arr = np.ascontiguousarray(arr, dtype="<f4")
            f = tmp / f"in-{name}.bin"
            f.write_bytes(arr.tobytes())
            spec["inputs"].append({"name": name, "file": str(f), "dims": list(arr.shape)})
        (tmp / "spec.json").write_text(json.dumps(spec))
        _tsx(["server/eval/runOnnx.ts", str(tmp / "spec.json")])
        shapes = json.loads((tmp / "out" / "outputs.json").read_text())
        return {n: np.frombuffer((tmp / "out" / f"{n}.bin").read_bytes(), dtype="<f4").reshape(d) for n, d in shapes.items()}


def ts_codec(values: np.ndarray, bits: int) -> tuple[np.ndarray, bytes, np.ndarray]:
    """codes, packed bytes and dequantized values computed by src/core/codec.ts."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "v.bin").write_bytes(np.ascontiguousarray(values, dtype="<f4").tobytes())
        _tsx(["server/eval/codecVectors.ts", str(tmp / "v.bin"), str(bits), str(tmp / "out")])
        codes = np.frombuffer((tmp / "out" / "codes.bin").read_bytes(), dtype=np.uint8)
        packed = (tmp / "out" / "packed.bin").read_bytes()
        deq = np.frombuffer((tmp / "out" / "dequantized.bin").read_bytes(), dtype="<f4")
        return codes, packed, deq
