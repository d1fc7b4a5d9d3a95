"""CaptioningTransformer: the course's scores check (seed 231, its dropout masks), shapes and
parameter counts, the causal mask (no position sees a later word), greedy sampling, bad input,
and the PyTorch modules not importing TensorFlow."""
import numpy as np
import pytest

from cs231n.gradient_check import rel_error

torch = pytest.importorskip("torch")
T_ = pytest.importorskip("cs231n.classifiers.transformer")
from cs231n.legacy_dropout_pytorch import legacy_dropout  # noqa: E402  (needs torch)
from tests.conftest import assert_framework_isolation  # noqa: E402

pytestmark = pytest.mark.a3

CaptioningTransformer = T_.CaptioningTransformer

# The course's expected scores (Transformer_Captioning.ipynb, 2021-2024), all four captions.
EXPECTED_SCORES = [[[-16.9532, 4.8261, 26.6054], [-17.1033, 4.6906, 26.4844], [-15.0708, 4.1108, 23.2924]],
                   [[-17.1767, 4.5897, 26.3562], [-15.6017, 4.8693, 25.3403], [-15.1028, 4.6905, 24.4839]],
                   [[-17.2172, 4.7701, 26.7574], [-16.6755, 4.8500, 26.3754], [-17.2172, 4.7701, 26.7574]],
                   [[-16.3669, 4.1602, 24.6872], [-16.7897, 4.3467, 25.4831], [-17.0103, 4.7775, 26.5652]]]
WORDS = ["<NULL>", "<START>", "<END>", "a", "red", "blue", "circle", "square"]
WORD_TO_IDX = {w: i for i, w in enumerate(WORDS)}


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


def small_model(**kwargs):
    settings = dict(input_dim=10, wordvec_dim=16, num_heads=2, num_layers=2, max_length=12,
                    dim_feedforward=24)
    return CaptioningTransformer(WORD_TO_IDX, **{**settings, **kwargs})


def test_scores_meet_the_course_check():
    torch.manual_seed(231)
    np.random.seed(231)
    N, D, W, T = 4, 20, 30, 3
    word_to_idx = {"<NULL>": 0, "cat": 2, "dog": 3}
    with legacy_dropout():
        model = CaptioningTransformer(word_to_idx, input_dim=D, wordvec_dim=W, num_heads=2,
                                      num_layers=2, max_length=30)
        for p in model.parameters():
            p.data = torch.tensor(np.linspace(-1.4, 1.3, num=p.numel()).reshape(*p.shape))
        features = torch.tensor(np.linspace(-1.5, 0.3, num=N * D).reshape(N, D))
        captions = torch.tensor((np.arange(N * T) % len(word_to_idx)).reshape(N, T))
        scores = model(features, captions)
    assert scores.shape == (N, T, 3)
    assert rel_error(np.asarray(EXPECTED_SCORES), scores.detach().numpy()) < 1e-5


def test_the_course_layers_and_their_initialization():
    model = small_model()
    names = [name for name, _ in model.named_children()]
    assert names == ["visual_projection", "embedding", "positional_encoding", "transformer", "output"]
    assert model.embedding.padding_idx == 0 and model._start == 1 and model._end == 2
    for layer in model.transformer.layers:
        assert torch.all(layer.linear1.bias == 0)
        assert layer.linear1.weight.std().item() == pytest.approx(0.02, rel=0.3)
        assert torch.all(layer.norm1.weight == 1)


@pytest.mark.parametrize("K", [1, 3])
def test_parameter_count(K):
    D, W, V, F, layers = 10, 16, len(WORDS), 24, 2
    model = small_model(num_image_tokens=K)
    attention = 4 * (W * W + W)
    layer = 2 * attention + (W * F + F) + (F * W + W) + 3 * 2 * W
    expected = (D * K * W + K * W) + V * W + layers * layer + (W * V + V)
    assert sum(p.numel() for p in model.parameters()) == expected


@pytest.mark.parametrize("K", [1, 4])
def test_forward_shapes_and_image_tokens(K):
    model = small_model(num_image_tokens=K).eval()
    features = torch.randn(3, 10)
    captions = torch.randint(0, len(WORDS), (3, 7))
    scores = model(features, captions)
    assert scores.shape == (3, 7, len(WORDS)) and scores.dtype == torch.float32
    memory = model.visual_projection(features).view(3, K, -1)
    assert memory.shape == (3, K, 16)


def test_no_position_sees_a_later_word():
    """The causal mask: changing the word at position t changes no score before t."""
    model = small_model().eval()
    features = torch.randn(4, 10)
    captions = torch.randint(0, len(WORDS), (4, 9))
    scores = model(features, captions)
    for t in range(1, 9):
        changed = captions.clone()
        changed[:, t] = (changed[:, t] + 1) % len(WORDS)
        new = model(features, changed)
        torch.testing.assert_close(new[:, :t], scores[:, :t], rtol=0, atol=1e-6)
        assert not torch.allclose(new[:, t:], scores[:, t:])


def test_the_image_reaches_every_position():
    model = small_model(num_image_tokens=2).eval()
    captions = torch.randint(0, len(WORDS), (2, 5))
    a, b = model(torch.randn(2, 10), captions), model(torch.randn(2, 10), captions)
    assert ((a - b).abs().amax(dim=-1) > 1e-4).all()


def test_sample_is_greedy_decoding_of_the_model():
    torch.manual_seed(1)
    model = small_model().train()
    features = np.random.randn(5, 10).astype(np.float32)
    captions = model.sample(features, max_length=8)
    assert captions.shape == (5, 8) and captions.dtype == np.int32
    assert model.training                         # the mode is put back
    model.eval()
    for row, caption in zip(features, captions, strict=True):
        words = [model._start]
        for t in range(8):
            scores = model(torch.from_numpy(row[None]), torch.tensor([words]))
            word = int(scores[0, -1].argmax())
            assert caption[t] == word
            words.append(word)
            if word == model._end:
                assert np.all(caption[t + 1:] == model._null)   # padded after <END>
                break
    np.testing.assert_array_equal(model.sample(features, max_length=8), captions)  # no dropout


def test_sample_accepts_float64_and_tensor_features():
    model = small_model()
    features = np.random.randn(2, 10)
    np.testing.assert_array_equal(model.sample(features, 5),
                                  model.sample(torch.from_numpy(features).float(), 5))


def test_bad_input_gets_a_clear_error():
    with pytest.raises(ValueError, match="'<NULL>'"):
        CaptioningTransformer({"a": 0}, input_dim=4, wordvec_dim=8)
    with pytest.raises(ValueError, match="embed_dim=8 is not divisible by num_heads=3"):
        CaptioningTransformer(WORD_TO_IDX, input_dim=4, wordvec_dim=8, num_heads=3)
    with pytest.raises(ValueError, match="num_image_tokens must be a positive integer"):
        small_model(num_image_tokens=0)
    model = small_model()
    features, captions = torch.randn(2, 10), torch.randint(0, 8, (2, 5))
    with pytest.raises(ValueError, match=r"features must be a tensor \(N, D\) = \(N, 10\)"):
        model(torch.randn(2, 9), captions)
    with pytest.raises(ValueError, match="captions must be an integer tensor"):
        model(features, captions.float())
    with pytest.raises(ValueError, match="captions has 3 rows but features has 2"):
        model(features, torch.randint(0, 8, (3, 5)))
    with pytest.raises(ValueError, match="T = 13 words; the model reads 1 to max_length = 12"):
        model(features, torch.randint(0, 8, (2, 13)))
    with pytest.raises(ValueError, match=r"word indices in \[0, 8\)"):
        model(features, torch.full((2, 5), 8))
    with pytest.raises(ValueError, match=r"max_length must be an integer in \[1, 12\]"):
        model.sample(np.zeros((2, 10)), max_length=13)
    with pytest.raises(ValueError, match="'<START>'"):
        CaptioningTransformer({"<NULL>": 0, "a": 1}, input_dim=4, wordvec_dim=8,
                              num_heads=2).sample(np.zeros((1, 4)))


def test_the_pytorch_modules_never_import_tensorflow():
    assert_framework_isolation([(mod, ("tensorflow", "keras")) for mod in (
        "transformer_layers", "classifiers.transformer", "captioning_solver_transformer",
        "legacy_dropout_pytorch")])


@pytest.mark.parametrize("K", [1, 3])
def test_cross_attention_weights_are_those_of_each_layers_image_attention(K):
    model = small_model(num_image_tokens=K).train()
    features, captions = np.random.randn(2, 10), np.random.randint(0, len(WORDS), (2, 6))
    weights = T_.cross_attention_weights(model, features, captions)
    assert weights.shape == (2, 2, 2, 6, K) and model.training
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-6)
    model.eval()
    f, c = torch.tensor(features, dtype=torch.float32), torch.tensor(captions)
    x = model.positional_encoding(model.embedding(c))
    memory = model.visual_projection(f).view(2, K, -1)
    mask = torch.tril(torch.ones(6, 6))
    for layer, expected in zip(model.transformer.layers, weights, strict=True):
        h = layer.norm1(x + layer.self_attn(x, x, x, attn_mask=mask))
        _, w = layer.multihead_attn(h, memory, memory, need_weights=True)
        np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
        x = layer(x, memory, tgt_mask=mask)
