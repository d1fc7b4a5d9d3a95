"""cs231n.classifiers.rnn.CaptioningRNN: the course's loss values, gradient checks, sampling."""
import numpy as np
import pytest
import torch

from cs231n.classifiers.rnn import CaptioningRNN
from cs231n.gradient_check import eval_numerical_gradient, rel_error
from cs231n.rnn_layers import lstm_step_forward, rnn_step_forward

pytestmark = pytest.mark.a3

PARAM_NAMES = {"W_proj", "b_proj", "W_embed", "Wx", "Wh", "b", "W_vocab", "b_vocab"}
VOCAB = {"<NULL>": 0, "<START>": 1, "<END>": 2, "cat": 3, "dog": 4, "sat": 5}


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(231)
    torch.manual_seed(231)


# The LSTM notebook's check feeds other features than the RNN notebook's.
@pytest.mark.parametrize("cell_type, feature_range, expected_loss", [
    ("rnn", (-1.5, 0.3), 9.83235591003),
    ("lstm", (-0.5, 1.7), 9.82445935443),
])
def test_loss_course_values(cell_type, feature_range, expected_loss):
    N, D, W, H = 10, 20, 30, 40
    word_to_idx = {"<NULL>": 0, "cat": 2, "dog": 3}    # no <START>/<END>: loss does not need them
    V = len(word_to_idx)
    T = 13
    model = CaptioningRNN(word_to_idx, input_dim=D, wordvec_dim=W, hidden_dim=H,
                          cell_type=cell_type, dtype=np.float64)
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    features = np.linspace(*feature_range, num=(N * D)).reshape(N, D)
    captions = (np.arange(N * T) % V).reshape(N, T)
    loss, grads = model.loss(features, captions)
    assert rel_error(loss, expected_loss) < 1e-10
    assert set(grads) == PARAM_NAMES
    assert all(grads[k].shape == v.shape for k, v in model.params.items())


def tiny_model(cell_type):
    """The course's gradient-check setup: a tiny float64 model and a batch of 2 captions."""
    batch_size, timesteps, input_dim, wordvec_dim, hidden_dim = 2, 3, 4, 5, 6
    word_to_idx = {"<NULL>": 0, "cat": 2, "dog": 3}
    vocab_size = len(word_to_idx)
    captions = np.random.randint(vocab_size, size=(batch_size, timesteps))
    captions[0, -1] = 0                                 # a masked step in every draw
    features = np.random.randn(batch_size, input_dim)
    model = CaptioningRNN(word_to_idx, input_dim=input_dim, wordvec_dim=wordvec_dim,
                          hidden_dim=hidden_dim, cell_type=cell_type, dtype=np.float64)
    return model, features, captions


def norm_rel_error(x, y):
    return np.linalg.norm(x - y) / (np.linalg.norm(x) + np.linalg.norm(y))


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_loss_gradients_numeric(cell_type):
    model, features, captions = tiny_model(cell_type)
    _, grads = model.loss(features, captions)
    for name in sorted(grads):
        def f(_):
            return model.loss(features, captions)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False, h=1e-6)
        # Whole-array relative error: dWx has entries near 3e-7 (the word vectors start at
        # 1/100 scale), where the elementwise error only measures finite-difference noise
        # (up to 1e-4). A wrong gradient scores about 1; the torch test below is the sharp one.
        assert norm_rel_error(grad_num, grads[name]) < 1e-6, name


def torch_captioning_loss(params, features, captions, cell_type, null):
    """The model's loss replayed in torch float64 (autograd gives the gradients)."""
    p = params
    h = torch.tensor(features) @ p["W_proj"] + p["b_proj"]
    c = torch.zeros_like(h)
    x = p["W_embed"][torch.tensor(captions[:, :-1])]
    H = h.shape[1]
    hs = []
    for t in range(x.shape[1]):
        a = x[:, t] @ p["Wx"] + h @ p["Wh"] + p["b"]
        if cell_type == "rnn":
            h = torch.tanh(a)
        else:
            i, f, o = (torch.sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
            c = f * c + i * torch.tanh(a[:, 3 * H:])
            h = o * torch.tanh(c)
        hs.append(h)
    scores = torch.stack(hs, dim=1) @ p["W_vocab"] + p["b_vocab"]
    target = torch.tensor(captions[:, 1:])
    per_step = torch.nn.functional.cross_entropy(scores.reshape(-1, scores.shape[2]),
                                                 target.reshape(-1), reduction="none")
    return (per_step * (target.reshape(-1) != null)).sum() / captions.shape[0]


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_loss_and_gradients_match_torch(cell_type):
    model, features, captions = tiny_model(cell_type)
    for k in model.params:                               # nonzero biases, larger vectors
        model.params[k] = np.random.randn(*model.params[k].shape)
    loss, grads = model.loss(features, captions)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in model.params.items()}
    loss_t = torch_captioning_loss(params, features, captions, cell_type, model._null)
    loss_t.backward()
    assert rel_error(loss, loss_t.item()) < 1e-12
    for name, value in params.items():
        assert rel_error(grads[name], value.grad.numpy()) < 1e-10, name


def test_init_matches_the_course():
    model = CaptioningRNN(VOCAB, input_dim=7, wordvec_dim=5, hidden_dim=3, cell_type="lstm")
    p = model.params
    assert set(p) == PARAM_NAMES and all(v.dtype == np.float32 for v in p.values())
    assert p["Wx"].shape == (5, 12) and p["Wh"].shape == (3, 12) and p["b"].shape == (12,)
    assert p["W_embed"].shape == (6, 5) and p["W_vocab"].shape == (3, 6)
    assert not p["b"].any() and not p["b_proj"].any() and not p["b_vocab"].any()
    assert (model._null, model._start, model._end) == (0, 1, 2)
    # The course's draws, in its order: W_embed, W_proj, Wx, Wh, W_vocab.
    np.random.seed(231)
    W_embed = np.random.randn(6, 5) / 100
    W_proj = np.random.randn(7, 3) / np.sqrt(7)
    Wx = np.random.randn(5, 12) / np.sqrt(5)
    Wh = np.random.randn(3, 12) / np.sqrt(3)
    W_vocab = np.random.randn(3, 6) / np.sqrt(3)
    for name, expected in (("W_embed", W_embed), ("W_proj", W_proj), ("Wx", Wx), ("Wh", Wh),
                           ("W_vocab", W_vocab)):
        assert rel_error(model.params[name], expected.astype(np.float32)) < 1e-6, name


def reference_greedy(model, features, max_length):
    """Greedy decoding written out from the step functions, writing every step."""
    p = model.params
    h = features @ p["W_proj"] + p["b_proj"]
    c = np.zeros_like(h)
    words = np.full(features.shape[0], model._start)
    out = []
    for _ in range(max_length):
        x = p["W_embed"][words]
        if model.cell_type == "rnn":
            h, _ = rnn_step_forward(x, h, p["Wx"], p["Wh"], p["b"])
        else:
            h, c, _ = lstm_step_forward(x, h, c, p["Wx"], p["Wh"], p["b"])
        words = np.argmax(h @ p["W_vocab"] + p["b_vocab"], axis=1)
        out.append(words)
    return np.stack(out, axis=1)


@pytest.mark.parametrize("cell_type", ["rnn", "lstm"])
def test_sample_is_greedy_and_stops_after_end(cell_type):
    model = CaptioningRNN(VOCAB, input_dim=4, wordvec_dim=3, hidden_dim=5,
                          cell_type=cell_type, dtype=np.float64)
    for k in model.params:                               # big weights: varied argmaxes
        model.params[k] = 3 * np.random.randn(*model.params[k].shape)
    model.params["b_vocab"][:] = 0                        # no word wins by its bias alone
    features = np.random.randn(40, 4)
    captions = model.sample(features, max_length=7)
    assert captions.shape == (40, 7) and captions.dtype == np.int32
    full = reference_greedy(model, features, 7)
    ended = 0
    for row, ref in zip(captions, full, strict=True):
        stop = np.flatnonzero(ref == model._end)
        n = stop[0] + 1 if stop.size else 7               # words up to and with <END>
        assert np.array_equal(row[:n], ref[:n])
        assert np.all(row[n:] == model._null)
        ended += bool(stop.size)
    assert 0 < ended < 40                                 # both kinds of row were tested


def test_sample_follows_the_vocabulary_bias():
    model = CaptioningRNN(VOCAB, input_dim=4, wordvec_dim=3, hidden_dim=5, dtype=np.float64)
    features = np.random.randn(3, 4)
    model.params["b_vocab"][VOCAB["cat"]] = 100.0
    assert np.all(model.sample(features, max_length=5) == VOCAB["cat"])
    model.params["b_vocab"][VOCAB["<END>"]] = 1000.0
    expected = np.array([[VOCAB["<END>"]] + [VOCAB["<NULL>"]] * 4] * 3)
    assert np.array_equal(model.sample(features, max_length=5), expected)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match='Invalid cell_type "gru"'):
        CaptioningRNN(VOCAB, cell_type="gru")
    with pytest.raises(ValueError, match="<NULL>"):
        CaptioningRNN({"cat": 0})
    model = CaptioningRNN(VOCAB, input_dim=4, wordvec_dim=3, hidden_dim=5)
    captions = np.array([[1, 3, 2], [1, 4, 2]])
    with pytest.raises(ValueError, match=r"features must have shape \(N, D\) = \(N, 4\)"):
        model.loss(np.zeros((2, 5)), captions)
    with pytest.raises(ValueError, match="2-D integer array"):
        model.loss(np.zeros((2, 4)), captions.astype(float))
    with pytest.raises(ValueError, match="2-D integer array"):
        model.loss(np.zeros((2, 4)), captions[0])
    with pytest.raises(ValueError, match="one caption per image"):
        model.loss(np.zeros((3, 4)), captions)
    with pytest.raises(ValueError, match=r"word indices in \[0, 6\)"):
        model.loss(np.zeros((2, 4)), captions + 4)
    with pytest.raises(ValueError, match="features must have shape"):
        model.sample(np.zeros(4))
    no_start = CaptioningRNN({"<NULL>": 0, "cat": 1}, input_dim=4, wordvec_dim=3, hidden_dim=5)
    with pytest.raises(ValueError, match="<START>"):
        no_start.sample(np.zeros((1, 4)))
