"""Transformer layers: the course's checks (seed 231, its dropout masks), multi-head attention
against PyTorch's float64 scaled_dot_product_attention with the same projections, the
positional encoding against its formula, the decoder layer against torch.nn's, and bad input."""
import numpy as np
import pytest

from cs231n.gradient_check import rel_error

torch = pytest.importorskip("torch")
F = torch.nn.functional
L = pytest.importorskip("cs231n.transformer_layers")
from cs231n.legacy_dropout_pytorch import legacy_dropout  # noqa: E402  (needs torch)

pytestmark = pytest.mark.a3

# The course's expected outputs (Transformer_Captioning.ipynb, 2021-2024), all three rows.
EXPECTED_SELF_ATTN = [[-0.2494, 0.1396, 0.4323, -0.2411, -0.1547, 0.2329, -0.1936, -0.1444],
                      [-0.1997, 0.1746, 0.7377, -0.3549, -0.2657, 0.2693, -0.2541, -0.2476],
                      [-0.0625, 0.1503, 0.7572, -0.3974, -0.1681, 0.2168, -0.2478, -0.3038]]
EXPECTED_MASKED_SELF_ATTN = [[-0.1347, 0.1934, 0.8628, -0.4903, -0.2614, 0.2798, -0.2586, -0.3019],
                             [-0.1013, 0.3111, 0.5783, -0.3248, -0.3842, 0.1482, -0.3628, -0.1496],
                             [-0.2071, 0.1669, 0.7097, -0.3152, -0.3136, 0.2520, -0.2774, -0.2208]]
EXPECTED_ATTN = [[-0.1980, 0.4083, 0.1968, -0.3477, 0.0321, 0.4258, -0.8972, -0.2744],
                 [-0.1603, 0.4155, 0.2295, -0.3485, -0.0341, 0.3929, -0.8248, -0.2767],
                 [-0.0908, 0.4113, 0.3017, -0.3539, -0.1020, 0.3784, -0.7189, -0.2912]]
EXPECTED_PE = [[-1.2340, 1.1127, 1.6978, -0.0865, -0.0000, 1.2728],
               [0.9028, -0.4781, 0.5535, 0.8133, 1.2644, 1.7034]]


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def course_attention_outputs():
    """The course's MultiHeadAttention check, in training mode with its dropout masks."""
    torch.manual_seed(231)
    with legacy_dropout():
        attn = L.MultiHeadAttention(8, num_heads=2)
        data = torch.randn(1, 3, 8)
        self_attn = attn(query=data, key=data, value=data)
        mask = torch.randn(3, 3) < 0.5
        masked = attn(query=data, key=data, value=data, attn_mask=mask)
        other = torch.randn(1, 3, 8)
        cross = attn(query=data, key=other, value=other)
    return [t.detach().numpy()[0] for t in (self_attn, masked, cross)]


def test_multihead_attention_meets_the_course_check():
    outputs = course_attention_outputs()
    for out, expected in zip(outputs, (EXPECTED_SELF_ATTN, EXPECTED_MASKED_SELF_ATTN,
                                       EXPECTED_ATTN), strict=True):
        assert rel_error(np.asarray(expected), out) < 1e-3


def test_the_course_check_needs_its_dropout_masks():
    """Without the course's masks the same seed gives other numbers (so attn_drop is applied to
    the attention weights in training mode, as the check values assume)."""
    torch.manual_seed(231)
    attn = L.MultiHeadAttention(8, num_heads=2)
    data = torch.randn(1, 3, 8)
    attn.eval()
    out = attn(query=data, key=data, value=data).detach().numpy()[0]
    assert rel_error(np.asarray(EXPECTED_SELF_ATTN), out) > 1e-2


def test_positional_encoding_meets_the_course_check():
    torch.manual_seed(231)
    with legacy_dropout():
        data = torch.randn(1, 2, 6)
        output = L.PositionalEncoding(6)(data)
    assert rel_error(np.asarray([EXPECTED_PE]), output.detach().numpy()) < 1e-3


# --------------------------------------------------------------------------- positional encoding


@pytest.mark.parametrize("embed_dim, max_len", [(6, 7), (16, 50), (2, 3)])
def test_positional_encoding_follows_its_formula(embed_dim, max_len):
    pe = L.PositionalEncoding(embed_dim, dropout=0.0, max_len=max_len).pe[0].double().numpy()
    i = np.arange(max_len)[:, None]
    j = np.arange(0, embed_dim, 2)[None, :]
    angle = i / 10000.0 ** (j / embed_dim)
    assert pe.shape == (max_len, embed_dim)
    np.testing.assert_allclose(pe[:, 0::2], np.sin(angle), atol=2e-6)
    np.testing.assert_allclose(pe[:, 1::2], np.cos(angle), atol=2e-6)


def test_positional_encoding_adds_the_first_positions_and_has_no_parameters():
    layer = L.PositionalEncoding(8, dropout=0.3, max_len=20).eval()
    x = torch.randn(3, 5, 8)
    torch.testing.assert_close(layer(x), x + layer.pe[:, :5])
    assert list(layer.parameters()) == [] and "pe" in layer.state_dict()
    layer.train()
    dropped = layer(torch.ones(4, 20, 8)) == 0
    assert 0.15 < dropped.float().mean() < 0.45          # dropout on the sum, in training


@pytest.mark.parametrize("embed_dim", [5, 0, 2.0])
def test_positional_encoding_needs_an_even_embed_dim(embed_dim):
    with pytest.raises(ValueError, match="embed_dim must be an even integer"):
        L.PositionalEncoding(embed_dim)


def test_positional_encoding_rejects_bad_input():
    layer = L.PositionalEncoding(4, max_len=3)
    with pytest.raises(ValueError, match=r"shape \(N, L, E\) with E = 4"):
        layer(torch.randn(2, 3, 6))
    with pytest.raises(ValueError, match=r"shape \(N, L, E\)"):
        layer(torch.randn(3, 4))
    with pytest.raises(ValueError, match="longer than max_len=3"):
        layer(torch.randn(1, 4, 4))


# --------------------------------------------------------------------------- attention


def reference_attention(attn, query, key, value, attn_mask=None):
    """The same projections in float64, attention by torch's scaled_dot_product_attention."""
    H = attn.n_head
    lin = {name: (getattr(attn, name).weight.double(), getattr(attn, name).bias.double())
           for name in ("query", "key", "value", "proj")}

    def heads(x, name):
        N, T, E = x.shape
        return F.linear(x.double(), *lin[name]).view(N, T, H, E // H).transpose(1, 2)

    mask = None if attn_mask is None else attn_mask.bool()
    y = F.scaled_dot_product_attention(heads(query, "query"), heads(key, "key"),
                                       heads(value, "value"), attn_mask=mask)
    N, _, S, _ = y.shape
    return F.linear(y.transpose(1, 2).reshape(N, S, -1), *lin["proj"])


@pytest.mark.parametrize("N, S, T, E, H", [(2, 5, 7, 12, 3), (1, 4, 4, 8, 1), (3, 6, 1, 10, 5)])
@pytest.mark.parametrize("masked", [False, True])
def test_attention_matches_scaled_dot_product_attention_in_float64(N, S, T, E, H, masked):
    attn = L.MultiHeadAttention(E, H).double().eval()
    query, key, value = torch.randn(N, S, E), torch.randn(N, T, E), torch.randn(N, T, E)
    mask = None
    if masked:
        mask = torch.rand(S, T) < 0.6
        mask[:, 0] = True                 # every query sees at least one key
    ours = attn(query.double(), key.double(), value.double(), attn_mask=mask)
    ref = reference_attention(attn, query, key, value, mask)
    assert ours.dtype == torch.float64 and ours.shape == (N, S, E)
    assert rel_error(ours.detach().numpy(), ref.detach().numpy()) < 1e-10


def test_attention_accepts_a_float_mask_and_gives_masked_keys_no_weight():
    attn = L.MultiHeadAttention(6, 2).eval()
    x = torch.randn(2, 4, 6)
    causal = torch.tril(torch.ones(4, 4))                       # the course's float mask
    out, weights = attn(x, x, x, attn_mask=causal, need_weights=True)
    torch.testing.assert_close(out, attn(x, x, x, attn_mask=causal.bool()))
    assert weights.shape == (2, 2, 4, 4)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 4))
    assert torch.all(weights[..., causal == 0] == 0)


def test_attention_dropout_acts_on_the_weights_in_training_only():
    attn = L.MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 5, 8)
    attn.eval()
    torch.testing.assert_close(attn(x, x, x), attn(x, x, x))
    attn.train()
    assert not torch.allclose(attn(x, x, x), attn(x, x, x))
    assert isinstance(attn.attn_drop, torch.nn.Dropout) and attn.attn_drop.p == 0.5


def test_attention_layers_and_parameter_count():
    attn = L.MultiHeadAttention(12, 3)
    names = [name for name, _ in attn.named_children()]
    assert names == ["key", "query", "value", "proj", "attn_drop"]     # the course's order
    assert sum(p.numel() for p in attn.parameters()) == 4 * (12 * 12 + 12)
    assert attn.head_dim == 4


@pytest.mark.parametrize("embed_dim, num_heads", [(10, 3), (8, 16)])
def test_attention_needs_heads_that_divide_embed_dim(embed_dim, num_heads):
    with pytest.raises(ValueError, match=f"embed_dim={embed_dim} is not divisible by "
                                         f"num_heads={num_heads}"):
        L.MultiHeadAttention(embed_dim, num_heads)


def test_attention_rejects_a_mask_of_the_wrong_shape():
    attn = L.MultiHeadAttention(8, 2)
    q, kv = torch.randn(2, 3, 8), torch.randn(2, 5, 8)
    with pytest.raises(ValueError, match=r"attn_mask must have shape \(S, T\) = \(3, 5\).*"
                                         r"got \(5, 3\)"):
        attn(q, kv, kv, attn_mask=torch.ones(5, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match=r"got \(1, 3, 5\)"):
        attn(q, kv, kv, attn_mask=torch.ones(1, 3, 5, dtype=torch.bool))
    mask = torch.ones(3, 5, dtype=torch.bool)
    mask[1] = False
    with pytest.raises(ValueError, match="a row of attn_mask is all zero"):
        attn(q, kv, kv, attn_mask=mask)


def test_attention_rejects_inputs_of_the_wrong_shape():
    attn = L.MultiHeadAttention(8, 2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(ValueError, match=r"query must be a tensor of shape \(N, L, E\) with E = 8"):
        attn(torch.randn(2, 3, 6), x, x)
    with pytest.raises(ValueError, match="key must be"):
        attn(x, torch.randn(3, 8), x)
    with pytest.raises(ValueError, match=r"must be \(N, S, E\), \(N, T, E\) and \(N, T, E\)"):
        attn(x, torch.randn(2, 4, 8), torch.randn(2, 5, 8))
    with pytest.raises(ValueError, match=r"must be \(N, S, E\)"):
        attn(x, torch.randn(1, 3, 8), torch.randn(1, 3, 8))


# --------------------------------------------------------------------------- decoder


def test_decoder_layer_matches_torch_transformer_decoder_layer():
    """Post-norm, ReLU, the same sublayers: PyTorch's own layer with our weights agrees."""
    E, H, FF = 12, 3, 20
    ours = L.TransformerDecoderLayer(E, H, dim_feedforward=FF).double().eval()
    ref = torch.nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, batch_first=True,
                                           norm_first=False).double().eval()
    with torch.no_grad():
        for mine, theirs in ((ours.self_attn, ref.self_attn), (ours.multihead_attn, ref.multihead_attn)):
            theirs.in_proj_weight.copy_(torch.cat([mine.query.weight, mine.key.weight, mine.value.weight]))
            theirs.in_proj_bias.copy_(torch.cat([mine.query.bias, mine.key.bias, mine.value.bias]))
            theirs.out_proj.weight.copy_(mine.proj.weight)
            theirs.out_proj.bias.copy_(mine.proj.bias)
        for name in ("linear1", "linear2", "norm1", "norm2", "norm3"):
            getattr(ref, name).load_state_dict(getattr(ours, name).state_dict())
    tgt, memory = torch.randn(2, 5, E).double(), torch.randn(2, 3, E).double()
    causal = torch.tril(torch.ones(5, 5, dtype=torch.bool))
    expected = ref(tgt, memory, tgt_mask=~causal)                # torch: True = may NOT attend
    assert rel_error(ours(tgt, memory, tgt_mask=causal).detach().numpy(),
                     expected.detach().numpy()) < 1e-10


def test_decoder_stacks_independent_copies_of_its_layer():
    layer = L.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    decoder = L.TransformerDecoder(layer, num_layers=3)
    assert len(decoder.layers) == 3
    per_layer = sum(p.numel() for p in layer.parameters())
    assert per_layer == 2 * 4 * (8 * 8 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 3 * 2 * 8
    assert sum(p.numel() for p in decoder.parameters()) == 3 * per_layer
    assert decoder.layers[0].linear1.weight is not decoder.layers[1].linear1.weight
    decoder.eval()
    tgt, memory = torch.randn(2, 4, 8), torch.randn(2, 1, 8)
    out = tgt
    for mod in decoder.layers:
        out = mod(out, memory)
    torch.testing.assert_close(decoder(tgt, memory), out)
    with pytest.raises(ValueError, match="num_layers must be a positive integer"):
        L.TransformerDecoder(layer, num_layers=0)
