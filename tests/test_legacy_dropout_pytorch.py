"""The course's dropout masks: one raw draw of the torch generator, MKL's MCG31m1 stream, and
the context manager that makes nn.Dropout use them (only in training mode)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
D = pytest.importorskip("cs231n.legacy_dropout_pytorch")

pytestmark = pytest.mark.a3


def test_next_uint32_is_the_generators_next_draw():
    """torch.rand(1) on the CPU is the low 24 bits of one 32-bit draw, times 2^-24."""
    g = torch.Generator().manual_seed(231)
    torch.randn(5, generator=g)
    state = g.get_state()
    draws = [D.next_uint32(g) for _ in range(700)]       # crosses a regeneration (624 words)
    after = torch.rand(3, generator=g)
    g.set_state(state)
    expected = [torch.rand(1, generator=g).item() for _ in range(700)]
    np.testing.assert_array_equal([(d & 0xFFFFFF) / 2**24 for d in draws], expected)
    torch.testing.assert_close(torch.rand(3, generator=g), after)   # advanced by 700 draws


def test_mcg31_uniforms_follow_the_recurrence():
    m, a = 2**31 - 1, 1132489760
    x, expected = 3042379069 % m, []
    for _ in range(1000):
        expected.append(x / m)
        x = a * x % m
    np.testing.assert_array_equal(D.mcg31_uniforms(3042379069, 1000), expected)
    assert D.mcg31_uniforms(0, 2)[0] == 1 / m                      # a zero seed becomes 1


def test_the_legacy_mask_keeps_about_1_minus_p():
    torch.manual_seed(0)
    keep = D.legacy_dropout_mask((200, 500), p=0.3)
    assert keep.dtype == torch.bool and keep.shape == (200, 500)
    assert keep.float().mean().item() == pytest.approx(0.7, abs=0.01)


def test_legacy_dropout_replaces_the_mask_in_training_only():
    layer = torch.nn.Dropout(0.25)
    x = torch.randn(4, 6)
    torch.manual_seed(7)
    with D.legacy_dropout():
        out = layer(x)
        layer.eval()
        assert layer(x) is x or torch.equal(layer(x), x)
    torch.manual_seed(7)
    keep = D.legacy_dropout_mask((4, 6), 0.25)
    torch.testing.assert_close(out, x * keep / 0.75)
    torch.manual_seed(7)
    layer.train()
    assert not torch.equal(layer(x), out)          # outside the block: PyTorch's own masks


def test_the_course_positional_encoding_draw():
    """One draw seeds the stream: with seed 231 it drops the fifth of the 12 values."""
    torch.manual_seed(231)
    torch.randn(1, 2, 6)
    keep = D.legacy_dropout_mask((1, 2, 6), 0.1)
    assert keep.flatten().tolist() == [True] * 4 + [False] + [True] * 7
