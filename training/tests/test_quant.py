import numpy as np
import pytest
import torch

from training import quant


def reference_codes(x: np.ndarray, bits: int) -> np.ndarray:
    """The codec.ts formula in numpy float32, step by step."""
    levels = np.float32((1 << bits) - 1)
    x = np.clip(np.nan_to_num(x.astype(np.float32), nan=0.0), 0, 1).astype(np.float32)
    v = np.float32(x * levels)
    v = np.float32(v + np.float32(0.5))
    return np.clip(np.floor(v), 0, levels).astype(np.uint8)


def boundary_vectors(bits: int) -> np.ndarray:
    levels = (1 << bits) - 1
    k = np.arange(levels + 1, dtype=np.float64)
    mids = ((k + 0.5) / levels).astype(np.float32)  # exact .5 boundaries (after float32 rounding)
    near = np.concatenate([np.nextafter(mids, np.float32(0)), np.nextafter(mids, np.float32(1))])
    exact = (k / levels).astype(np.float32)
    extra = np.array([-1.0, -0.0, 0.0, 1.0, 1.5, np.nan, np.inf, -np.inf, 1e-8, 1 - 1e-7], dtype=np.float32)
    rng = np.random.default_rng(bits)
    return np.concatenate([mids, near, exact, extra, rng.random(501, dtype=np.float32)])


@pytest.mark.parametrize("bits", range(1, 9))
def test_quantize_matches_reference(bits):
    x = boundary_vectors(bits)
    q = quant.quantize(torch.from_numpy(x), bits).numpy().astype(np.uint8)
    assert np.array_equal(q, reference_codes(x, bits))
    assert q.max() <= (1 << bits) - 1


@pytest.mark.parametrize("bits", range(1, 9))
def test_round_trips(bits):
    levels = (1 << bits) - 1
    q = torch.arange(levels + 1, dtype=torch.float32)
    assert torch.equal(quant.quantize(quant.dequantize(q, bits), bits), q)
    x = torch.rand(1000)
    err = (quant.dequantize(quant.quantize(x, bits), bits) - x).abs().max().item()
    assert err <= 0.5 / levels + 1e-6
    codes = np.random.default_rng(bits).integers(0, levels + 1, 37).tolist()  # odd length
    packed = quant.pack(codes, bits)
    assert len(packed) == quant.payload_bytes(37, bits)
    assert quant.unpack(packed, 37, bits) == codes


def test_dequantize_is_float32_division():
    for bits in range(1, 9):
        levels = (1 << bits) - 1
        q = np.arange(levels + 1)
        expect = (q.astype(np.float64) / levels).astype(np.float32)  # JS: double division stored in a Float32Array
        got = quant.dequantize(torch.from_numpy(q.astype(np.float32)), bits).numpy()
        assert np.array_equal(got, expect)


def test_per_sample_bits_and_straight_through():
    x = torch.rand(4, 2, 7, 7, requires_grad=True)
    bits = torch.tensor([1, 2, 8, 0]).view(4, 1, 1, 1)
    y = quant.fake_quant_mixed(x, bits)
    for i, b in enumerate([1, 2, 8]):
        assert torch.equal(y[i], quant.dequantize(quant.quantize(x[i].detach(), b), b))
    assert torch.equal(y[3], x[3])
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))


def test_invalid_bits():
    with pytest.raises(ValueError):
        quant.quantize(torch.rand(3), 0)
    with pytest.raises(ValueError):
        quant.quantize(torch.rand(3), 9)


@pytest.mark.parametrize("bits", [1, 2, 3, 5, 7, 8])
def test_equal_to_typescript_codec(node, bits):
    from training.node_bridge import ts_codec

    x = boundary_vectors(bits)
    x = x[np.isfinite(x)]  # the TS codec maps NaN to 0 as well; keep the vector finite for the byte compare
    codes, packed, deq = ts_codec(x, bits)
    q = quant.quantize(torch.from_numpy(x), bits)
    assert np.array_equal(q.numpy().astype(np.uint8), codes)
    assert quant.pack(codes.tolist(), bits) == packed
    assert np.array_equal(quant.dequantize(q, bits).numpy(), deq)


def test_weighted_bit_sampling():
    g = torch.Generator().manual_seed(0)
    bits = quant.random_bits(20000, g, weights=[0, 3, 0, 1, 0, 0, 0, 0]).flatten()
    assert set(bits.tolist()) == {2, 4}
    share2 = (bits == 2).float().mean().item()
    assert abs(share2 - 0.75) < 0.02
    uniform = quant.random_bits(8000, g).flatten()
    assert set(uniform.tolist()) == set(range(1, 9))
    with_float = quant.random_bits(8000, g, p_float=0.5, weights=[1] * 8).flatten()
    assert abs((with_float == 0).float().mean().item() - 0.5) < 0.03
    for bad in ([1, 2], [-1] + [1] * 7, [0] * 8):
        with pytest.raises(ValueError):
            quant.random_bits(4, g, weights=bad)
