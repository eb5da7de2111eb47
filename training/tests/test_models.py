import pytest
import torch

from training.models import BaseNet, EarlyExit, EarlyExitExport, SplitNet, count_params


def test_base_size_and_logits():
    m = BaseNet().eval()
    assert 0.9e6 <= count_params(m) <= 1.3e6
    assert m(torch.rand(3, 1, 28, 28)).shape == (3, 10)


@pytest.mark.parametrize("channels", [2, 4, 8])
def test_bottleneck_shape_and_range(channels):
    s = SplitNet(channels).eval()
    x = torch.rand(5, 1, 28, 28)
    x[0] = 0
    x[1] = 1
    with torch.no_grad():
        z = s.encoder(x * 50)  # extreme inputs still land in [0,1]
        z2 = s.encoder(x)
    for t in (z, z2):
        assert t.shape == (5, channels, 7, 7)
        assert t.min() >= 0 and t.max() <= 1
    assert s.tail(z2).shape == (5, 10)
    assert s(x, torch.full((5, 1, 1, 1), 2)).shape == (5, 10)


def test_head_is_small():
    base, split = BaseNet(), SplitNet(8)
    assert count_params(split.encoder) * 10 <= count_params(base)


def test_early_exit_outputs():
    e = EarlyExitExport(EarlyExit(4)).eval()
    logits, conf = e(torch.rand(6, 4, 7, 7))
    assert logits.shape == (6, 10) and conf.shape == (6,)
    assert torch.allclose(conf, torch.softmax(logits, 1).max(1).values)
    assert (conf >= 0.1 - 1e-6).all() and (conf <= 1).all()
