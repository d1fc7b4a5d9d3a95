"""CaptioningSolverTransformer: the course's loss, training on a toy corpus with the Solver's
loop, the NaN stop, lr decay, checkpoints that resume exactly, and option errors."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
S = pytest.importorskip("cs231n.captioning_solver_transformer")
from cs231n.checkpoint import load_checkpoint  # noqa: E402
from cs231n.classifiers.transformer import CaptioningTransformer  # noqa: E402
from cs231n.solver import NonFiniteLossError  # noqa: E402
from tests.test_captioning_solver import tiny_captions  # noqa: E402

pytestmark = pytest.mark.a3

CaptioningSolverTransformer = S.CaptioningSolverTransformer


def make(data, seed=0, dropout=0.0, **kwargs):
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = CaptioningTransformer(data["word_to_idx"], input_dim=10, wordvec_dim=16, num_heads=2,
                                  num_layers=1, max_length=8, dim_feedforward=32, dropout=dropout)
    options = dict(learning_rate=1e-2, batch_size=6, num_epochs=2, verbose=False)
    return model, CaptioningSolverTransformer(model, data, data["idx_to_word"], **{**options, **kwargs})


def test_the_course_loss_averages_over_all_steps():
    x = torch.randn(2, 3, 5, dtype=torch.float64)
    y = torch.tensor([[1, 2, 0], [4, 0, 0]])
    mask = y != 0
    loss = CaptioningSolverTransformer.transformer_temporal_softmax_loss(x, y, mask)
    logp = torch.log_softmax(x, dim=-1)
    expected = -(logp[0, 0, 1] + logp[0, 1, 2] + logp[1, 0, 4]) / 6      # N * T = 6
    torch.testing.assert_close(loss, expected)


def test_learns_a_few_captions_and_samples_them_back():
    data = tiny_captions()
    model, solver = make(data, num_epochs=150)
    solver.train()
    assert len(solver.loss_history) == 150
    assert solver.loss_history[-1] < 0.1 * solver.loss_history[0]
    sampled = model.sample(data["train_features"], max_length=7)
    np.testing.assert_array_equal(sampled[:, :5], data["train_captions"][:, 1:6])
    assert solver.idx_to_word is data["idx_to_word"] and solver.optim is not None


def test_stops_with_a_clear_error_when_the_loss_is_nan():
    data = tiny_captions()
    data["train_features"][:] = np.nan
    model, solver = make(data)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(NonFiniteLossError, match="loss became nan at iteration 1"):
        solver.train()
    for k, v in model.state_dict().items():                 # no update with a NaN gradient
        torch.testing.assert_close(v, before[k], equal_nan=True)


def test_learning_rate_decays_each_epoch():
    _, solver = make(tiny_captions(), num_epochs=3, lr_decay=0.5, learning_rate=0.1)
    solver.train()
    assert solver.optim.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)


def test_checkpoints_resume_exactly(tmp_path):
    data = tiny_captions()
    _, straight = make(data, num_epochs=4, lr_decay=0.9, dropout=0.1)   # dropout: torch's RNG
    straight.train()

    model, first = make(data, num_epochs=2, lr_decay=0.9, dropout=0.1,
                        checkpoint_name=str(tmp_path / "tr"))
    first.train()
    ckpt = load_checkpoint(tmp_path / "tr_epoch_2.ckpt.npz")
    assert ckpt["meta"]["iteration"] == 2 and ckpt["meta"]["update_rule"] == "adam"
    assert set(ckpt["model"]) == set(model.state_dict())
    assert not list(tmp_path.glob(".tmp-*"))                       # written atomically

    torch.manual_seed(123)                       # both RNGs are restored from the checkpoint
    np.random.seed(123)
    resumed_model, resumed = make(data, seed=5, num_epochs=4, lr_decay=0.9, dropout=0.1)
    resumed.resume(str(tmp_path / "tr_epoch_2.ckpt.npz"))
    assert resumed.epoch == 2 and resumed.iteration == 2
    resumed.train()
    np.testing.assert_allclose(resumed.loss_history, straight.loss_history, rtol=1e-6)
    for k, v in straight.model.state_dict().items():
        torch.testing.assert_close(resumed_model.state_dict()[k], v)


def test_resume_refuses_a_checkpoint_of_another_model(tmp_path):
    data = tiny_captions()
    _, solver = make(data, num_epochs=1, checkpoint_name=str(tmp_path / "a"))
    solver.train()
    torch.manual_seed(0)
    bigger = CaptioningTransformer(data["word_to_idx"], input_dim=10, wordvec_dim=32, num_heads=2,
                                   num_layers=1, max_length=8, dim_feedforward=32)
    other = CaptioningSolverTransformer(bigger, data, data["idx_to_word"], batch_size=6,
                                        verbose=False)
    before = {k: v.clone() for k, v in bigger.state_dict().items()}
    with pytest.raises(ValueError, match="does not match this model"):
        other.resume(str(tmp_path / "a_epoch_1.ckpt.npz"))
    for k, v in bigger.state_dict().items():
        torch.testing.assert_close(v, before[k])
    _, other_batch = make(data, batch_size=3)
    with pytest.raises(ValueError, match="batch_size=6, this Solver has batch_size=3"):
        other_batch.resume(str(tmp_path / "a_epoch_1.ckpt.npz"))


def test_bad_options_get_clear_errors():
    data = tiny_captions()
    model, _ = make(data)
    with pytest.raises(ValueError, match="trains with Adam"):
        CaptioningSolverTransformer(model, data, data["idx_to_word"], update_rule="sgd")
    with pytest.raises(ValueError, match="once, as learning_rate or in optim_config"):
        CaptioningSolverTransformer(model, data, data["idx_to_word"], learning_rate=1e-3,
                                    optim_config={"learning_rate": 1e-3})
    with pytest.raises(ValueError, match=r"\['momentum'\] are not settings of Adam"):
        CaptioningSolverTransformer(model, data, data["idx_to_word"], optim_config={"momentum": 0.9})
    with pytest.raises(ValueError, match="unrecognized arguments"):
        CaptioningSolverTransformer(model, data, data["idx_to_word"], num_epoch=3)
    with pytest.raises(TypeError, match="must be an nn.Module"):
        CaptioningSolverTransformer(object(), data, data["idx_to_word"])
    with pytest.raises(ValueError, match="missing"):
        CaptioningSolverTransformer(model, {"train_captions": data["train_captions"]},
                                    data["idx_to_word"])
