"""Dropout masks as the course's PyTorch drew them, to reproduce its Transformer check values.

The course's checks of `MultiHeadAttention`, `PositionalEncoding` and `CaptioningTransformer`
(Transformer_Captioning.ipynb) were computed in training mode, so their expected values include
dropout masks. The PyTorch that computed them drew a CPU Bernoulli mask, on an Intel CPU, with
Intel MKL: one 32-bit number from the torch generator seeded MKL's MCG31m1 stream,

    x_0 = seed mod m,  x_{i+1} = a x_i mod m,  u_i = x_i / m   (m = 2^31 - 1, a = 1132489760)

and element i of the mask (in row-major order) was kept when u_i < 1 - p. The PyTorch of this
workbook draws its masks differently, so the same seed gives other masks and other numbers.
`legacy_dropout()` reproduces the old masks from the same torch generator, so that the layers,
unchanged, meet the course's values. Everything else (initialization, torch.randn) draws from
the generator as before. It is a tool for those checks, not for training.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch.nn import functional as F
from torch.overrides import TorchFunctionMode

MCG31_MODULUS, MCG31_MULTIPLIER = 2**31 - 1, 1132489760
_MT_N = 624  # words of MT19937 state


def next_uint32(generator: torch.Generator | None = None) -> int:
    """Draw one 32-bit number from a CPU torch generator (its next MT19937 output), as
    PyTorch's C++ ``generator->random()`` does, and advance the generator by that one draw.

    PyTorch has no Python call that returns that raw number, so this reads the generator's
    state (MT19937 words and position), draws with numpy's MT19937 (the same algorithm) and
    writes the advanced state back.
    """
    generator = torch.default_generator if generator is None else generator
    raw = generator.get_state().numpy().copy()
    # CPUGeneratorImplState: seed u64 | left i32 | seeded i32 | next u64 | state u64[624] | ...
    left = int(raw[8:12].view(np.int32)[0])
    position = int(raw[16:24].view(np.uint64)[0])
    words = raw[24:24 + 8 * _MT_N].view(np.uint64).astype(np.uint32)
    mt = np.random.MT19937()
    # left == 1: the next draw regenerates the state first (numpy's position 624)
    mt.state = {"bit_generator": "MT19937",
                "state": {"key": words, "pos": _MT_N if left == 1 else position}}
    value = int(mt.random_raw())
    state = mt.state["state"]
    raw[24:24 + 8 * _MT_N] = state["key"].astype(np.uint64).view(np.uint8)
    raw[8:12] = np.array([_MT_N + 1 - state["pos"]], np.int32).view(np.uint8)
    raw[16:24] = np.array([state["pos"]], np.uint64).view(np.uint8)
    generator.set_state(torch.from_numpy(raw))
    return value


def mcg31_uniforms(seed: int, n: int) -> np.ndarray:
    """The first n uniforms u_i = x_i / m of MKL's MCG31m1 stream seeded with `seed` (float64).

    x_i = seed * a^i mod m, computed for all i at once by doubling the powers of a.
    """
    m, a = MCG31_MODULUS, MCG31_MULTIPLIER
    powers = np.ones(n, dtype=np.int64)   # a^i mod m; products of two stay below 2^62
    k = 1
    while k < n:
        powers[k:2 * k] = powers[:min(k, n - k)] * pow(a, k, m) % m
        k *= 2
    x0 = seed % m or 1                    # MKL replaces a zero seed by 1
    return (x0 * powers % m) / m


def legacy_dropout_mask(shape: tuple[int, ...], p: float, generator: torch.Generator | None = None
                        ) -> torch.Tensor:
    """The keep-mask (bool, of `shape`) that the course's PyTorch drew for dropout probability p.

    Uses one 32-bit draw of the generator as the seed (`next_uint32`).
    """
    n = int(np.prod(shape))
    u = mcg31_uniforms(next_uint32(generator), n)
    return torch.from_numpy(u < 1 - p).view(shape)


def _dropout(input: torch.Tensor, p: float = 0.5, training: bool = True,
             inplace: bool = False) -> torch.Tensor:
    """F.dropout with the legacy mask: input * mask / (1 - p) in training, input otherwise."""
    if not training or p == 0:
        return input
    if p == 1:
        return input.mul_(0) if inplace else input * 0
    keep = legacy_dropout_mask(tuple(input.shape), p).to(device=input.device, dtype=input.dtype)
    scaled = keep / (1 - p)
    return input.mul_(scaled) if inplace else input * scaled


class _LegacyDropoutMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is F.dropout:
            return _dropout(*args, **kwargs)
        return func(*args, **kwargs)


@contextmanager
def legacy_dropout() -> Iterator[None]:
    """Within this block, every ``torch.nn.functional.dropout`` (and so every ``nn.Dropout``)
    in training mode draws its mask as the course's PyTorch did (see the module docstring).

    Example, the course's check of PositionalEncoding::

        torch.manual_seed(231)
        with legacy_dropout():
            output = PositionalEncoding(6)(torch.randn(1, 2, 6))
    """
    with _LegacyDropoutMode():
        yield
