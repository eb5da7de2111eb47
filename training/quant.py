"""Bottleneck quantization, bit-exact with src/core/codec.ts.

    L = 2^b - 1
    q = clamp(floor(float32(float32(clamp(x, 0, 1) * L) + 0.5)), 0, L)
    x_hat = float32(q / L)

Everything is computed in float32 so the codes equal those of the TypeScript codec.
Training uses a straight-through estimator: forward uses x_hat, backward passes the
gradient of x unchanged.
"""
from __future__ import annotations

import math

import torch

MIN_BITS = 1
MAX_BITS = 8
FORMULA = "L = 2^b - 1; q = clamp(floor(float32(float32(clamp(x, 0, 1) * L) + 0.5)), 0, L); x_hat = float32(q / L)"


def _levels(bits) -> torch.Tensor | float:
    if isinstance(bits, torch.Tensor):
        return (torch.pow(2.0, bits.to(torch.float32)) - 1.0).to(torch.float32)
    if not isinstance(bits, int) or bits < MIN_BITS or bits > MAX_BITS:
        raise ValueError(f"bits must be an integer from {MIN_BITS} to {MAX_BITS}, got {bits!r}")
    return float((1 << bits) - 1)


def quantize(x: torch.Tensor, bits) -> torch.Tensor:
    """Integer codes (as float32 tensor) of x for `bits` bits (int or per-sample tensor
    broadcastable to x). NaN maps to 0, like the TS codec."""
    x = x.to(torch.float32)
    x = torch.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0).clamp(0.0, 1.0)
    levels = _levels(bits)
    # float32 multiply, float32 add, floor: each rounded to float32 as in codec.ts
    v = x * levels
    v = v + 0.5
    q = torch.floor(v)
    if isinstance(levels, torch.Tensor):
        return torch.minimum(q.clamp_min(0.0), levels)
    return q.clamp(0.0, levels)


def dequantize(q: torch.Tensor, bits) -> torch.Tensor:
    return (q.to(torch.float32) / _levels(bits)).to(torch.float32)


def fake_quant(x: torch.Tensor, bits) -> torch.Tensor:
    """Quantize + dequantize with a straight-through gradient."""
    xq = dequantize(quantize(x.detach(), bits), bits)
    return x + (xq - x).detach()


def random_bits(n: int, generator: torch.Generator | None = None, p_float: float = 0.0, weights=None) -> torch.Tensor:
    """Per-sample bit-widths, shape [n,1,1,1]; 0 means 'no quantization' (used with probability
    p_float). Bit-widths 1..8 are uniform, or drawn in proportion to `weights` (8 values)."""
    if weights is None:
        bits = torch.randint(MIN_BITS, MAX_BITS + 1, (n,), generator=generator)
    else:
        w = torch.as_tensor(weights, dtype=torch.float64)
        if w.shape != (MAX_BITS - MIN_BITS + 1,) or bool((w < 0).any()) or float(w.sum()) <= 0:
            raise ValueError(f"weights must be {MAX_BITS - MIN_BITS + 1} non-negative numbers with a positive sum, got {weights!r}")
        bits = torch.multinomial(w, n, replacement=True, generator=generator) + MIN_BITS
    if p_float > 0:
        keep = torch.rand(n, generator=generator) < p_float
        bits = torch.where(keep, torch.zeros_like(bits), bits)
    return bits.view(n, 1, 1, 1)


def fake_quant_mixed(x: torch.Tensor, bits: torch.Tensor) -> torch.Tensor:
    """fake_quant with per-sample bits [N,1,1,1]; bits==0 passes x through unquantized."""
    b = bits.clamp(min=1)
    xq = fake_quant(x, b)
    return torch.where(bits > 0, xq, x)


def payload_bytes(elements: int, bits: int) -> int:
    return math.ceil(elements * bits / 8)


def pack(codes, bits: int) -> bytes:
    """MSB-first bit packing, identical to codec.ts pack()."""
    _levels(bits)
    out = bytearray(payload_bytes(len(codes), bits))
    acc = 0
    pending = 0
    at = 0
    mask = (1 << bits) - 1
    for c in codes:
        acc = (acc << bits) | (int(c) & mask)
        pending += bits
        while pending >= 8:
            pending -= 8
            out[at] = (acc >> pending) & 0xFF
            at += 1
            acc &= (1 << pending) - 1
    if pending > 0:
        out[at] = (acc << (8 - pending)) & 0xFF
    return bytes(out)


def unpack(data: bytes, count: int, bits: int) -> list[int]:
    _levels(bits)
    need = payload_bytes(count, bits)
    if len(data) < need:
        raise ValueError(f"need {need} bytes for {count} codes of {bits} bits, got {len(data)}")
    out = []
    acc = 0
    avail = 0
    at = 0
    mask = (1 << bits) - 1
    for _ in range(count):
        while avail < bits:
            acc = ((acc << 8) | data[at]) & 0xFFFF
            at += 1
            avail += 8
        avail -= bits
        out.append((acc >> avail) & mask)
    return out
