"""ONNX export: eval mode, constant folding (BatchNorm folds into Conv), dynamic batch axis."""
from __future__ import annotations

from pathlib import Path

import onnx
import torch


def export_onnx(module: torch.nn.Module, dummy: torch.Tensor, path: Path, inputs: list[str], outputs: list[str], opset: int = 17) -> None:
    was_training = module.training
    module.eval()
    dyn = {name: {0: "batch"} for name in inputs + outputs}
    with torch.no_grad():
        torch.onnx.export(
            module,
            dummy,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dyn,
            opset_version=opset,
            do_constant_folding=True,
            export_params=True,
        )
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    module.train(was_training)


def op_types(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}
