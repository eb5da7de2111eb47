import numpy as np
import onnx
import pytest
import torch

from training.export import export_onnx, op_types
from training.models import BaseNet, EarlyExit, EarlyExitExport, SplitNet

ALLOWED = {"Conv", "Relu", "MaxPool", "Sigmoid", "Gemm", "MatMul", "Add", "Flatten", "Reshape", "GlobalAveragePool", "Softmax", "ReduceMax"}


def randomize_bn(module):
    """Non-trivial BatchNorm statistics so that folding them into Conv is actually exercised."""
    g = torch.Generator().manual_seed(1)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return module.eval()


def cases():
    split = randomize_bn(SplitNet(4))
    return {
        "full": (randomize_bn(BaseNet()), (1, 28, 28), ["image"], ["logits"]),
        "head": (split.encoder, (1, 28, 28), ["image"], ["bottleneck"]),
        "tail": (split.tail, (4, 7, 7), ["bottleneck"], ["logits"]),
        "exit": (EarlyExitExport(EarlyExit(4)).eval(), (4, 7, 7), ["bottleneck"], ["logits", "confidence"]),
    }


@pytest.mark.parametrize("name", ["full", "head", "tail", "exit"])
def test_export_checker_ops_and_onnx_matches_pytorch(tmp_path, node, name):
    from training.node_bridge import run_onnx

    torch.manual_seed(0)
    module, shape, inputs, outputs = cases()[name]
    path = tmp_path / f"{name}.onnx"
    export_onnx(module, torch.rand(2, *shape), path, inputs, outputs, 17)
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert all(o.version <= 17 for o in model.opset_import if o.domain in ("", "ai.onnx"))
    assert op_types(path) <= ALLOWED, op_types(path) - ALLOWED
    assert "BatchNormalization" not in op_types(path)
    for t in list(model.graph.input) + list(model.graph.output):
        assert t.type.tensor_type.shape.dim[0].dim_param == "batch", t.name
    # a different batch size than the export dummy: the batch axis is dynamic
    x = torch.rand(5, *shape)
    with torch.no_grad():
        ref = module(x)
    ref = ref if isinstance(ref, tuple) else (ref,)
    got = run_onnx(path, {inputs[0]: x.numpy()})
    for out_name, r in zip(outputs, ref):
        assert got[out_name].shape == tuple(r.shape)
        np.testing.assert_allclose(got[out_name], r.numpy(), atol=1e-4, rtol=0)
