"""cs231n.solver: training on a tiny problem, checkpoints and resume, errors."""
import os

import numpy as np
import pytest

from cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n.solver import NonFiniteLossError, Solver, load_checkpoint

pytestmark = pytest.mark.a2


def blobs(n, rng, centers):
    y = rng.integers(len(centers), size=n)
    return centers[y] + 0.5 * rng.standard_normal((n, centers.shape[1])), y


@pytest.fixture
def data():
    """Three well separated Gaussian blobs in 4-D."""
    rng = np.random.default_rng(0)
    centers = 2 * rng.standard_normal((3, 4))
    X_train, y_train = blobs(60, rng, centers)
    X_val, y_val = blobs(30, rng, centers)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def small_net(**kwargs):
    np.random.seed(1)
    return TwoLayerNet(input_dim=4, hidden_dim=8, num_classes=3, weight_scale=0.1, **kwargs)


def test_training_lowers_the_loss_and_restores_the_best_params(data):
    model = small_net()
    solver = Solver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-2},
                    lr_decay=0.9, batch_size=10, num_epochs=5, verbose=False)
    solver.train()
    iterations = 5 * (60 // 10)
    assert len(solver.loss_history) == iterations
    assert np.mean(solver.loss_history[-5:]) < 0.5 * np.mean(solver.loss_history[:5])
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 5 + 1
    assert solver.best_val_acc >= 0.9
    # the model ends with the best parameters, which score the best val accuracy
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == solver.best_val_acc
    for k, v in solver.best_params.items():
        assert np.array_equal(model.params[k], v)
    assert solver.optim_configs["W1"]["learning_rate"] == pytest.approx(2e-2 * 0.9**5)
    assert solver.optim_configs["W1"]["t"] == iterations


def test_check_accuracy_batches_and_subsamples(data):
    solver = Solver(small_net(), data, verbose=False)
    full = solver.check_accuracy(data["X_val"], data["y_val"], batch_size=7)
    assert full == solver.check_accuracy(data["X_val"], data["y_val"], batch_size=100)
    scores = solver.model.loss(data["X_val"])
    assert full == np.mean(scores.argmax(axis=1) == data["y_val"])
    assert 0 <= solver.check_accuracy(data["X_val"], data["y_val"], num_samples=5) <= 1


def test_verbose_prints_iterations_and_epochs(data, capsys):
    Solver(small_net(), data, batch_size=30, num_epochs=2, print_every=1).train()
    out = capsys.readouterr().out
    assert "(Iteration 1 / 4) loss:" in out
    assert "(Epoch 0 / 2) train acc:" in out and "(Epoch 2 / 2) train acc:" in out


def test_augment_fn_sees_every_training_batch(data):
    seen = []

    def augment(X):
        seen.append(X.shape)
        return X[:, ::-1]                  # any transform that keeps the batch

    Solver(small_net(), data, batch_size=20, num_epochs=2, augment_fn=augment,
           verbose=False).train()
    assert seen == [(20, 4)] * 6            # training batches only, not accuracy checks
    with pytest.raises(ValueError, match="must keep the 20 examples"):
        Solver(small_net(), data, batch_size=20, augment_fn=lambda X: X[:5],
               verbose=False).train()


class NaNAfter:
    """A model whose loss becomes NaN on its n-th training call."""

    def __init__(self, n):
        self.inner, self.n, self.calls = small_net(), n, 0
        self.params = self.inner.params

    def loss(self, X, y=None):
        if y is None:
            return self.inner.loss(X)
        self.calls += 1
        loss, grads = self.inner.loss(X, y)
        return (np.nan if self.calls == self.n else loss), grads


def test_nan_loss_stops_with_the_iteration(data):
    model = NaNAfter(8)
    solver = Solver(model, data, batch_size=10, num_epochs=3, verbose=False)
    with pytest.raises(NonFiniteLossError, match=r"loss became nan at iteration 8 \(epoch 1\)") \
            as excinfo:
        solver.train()
    assert isinstance(excinfo.value, FloatingPointError)
    assert excinfo.value.iteration == 8 and len(solver.loss_history) == 7


def test_diverging_learning_rate_raises(data):
    solver = Solver(small_net(), data, optim_config={"learning_rate": 1e30}, batch_size=10,
                    num_epochs=5, verbose=False)
    with np.errstate(all="ignore"), pytest.raises(NonFiniteLossError, match="iteration"):
        solver.train()


def make_solver(data, model, tmp_path, num_epochs, **kwargs):
    return Solver(model, data, update_rule="sgd_momentum", lr_decay=0.95,
                  optim_config={"learning_rate": 0.05}, batch_size=12, num_epochs=num_epochs,
                  num_train_samples=20, checkpoint_name=str(tmp_path / "run"), verbose=False,
                  **kwargs)


def bn_dropout_net():
    np.random.seed(2)
    return FullyConnectedNet([8, 6], input_dim=4, num_classes=3, dropout=0.8,
                             normalization="batchnorm", weight_scale=0.3, dtype=np.float64)


def test_checkpoints_are_written_atomically_and_round_trip(data, tmp_path):
    model = bn_dropout_net()
    solver = make_solver(data, model, tmp_path, num_epochs=3)
    solver.train()
    names = sorted(os.listdir(tmp_path))
    assert names == [f"run_epoch_{e}.ckpt.npz" for e in range(4)]    # no temporary left over
    ckpt = load_checkpoint(str(tmp_path / "run_epoch_3.ckpt.npz"))
    assert ckpt["meta"]["epoch"] == 3 and ckpt["meta"]["iteration"] == 15
    assert ckpt["meta"]["update_rule"] == "sgd_momentum"
    assert ckpt["loss_history"] == solver.loss_history
    assert ckpt["val_acc_history"] == solver.val_acc_history
    for k, v in ckpt["best_params"].items():
        assert np.array_equal(v, solver.best_params[k])
    assert ckpt["optim_configs"]["W1"]["learning_rate"] == pytest.approx(0.05 * 0.95**3)
    assert ckpt["optim_configs"]["W1"]["velocity"].shape == (4, 8)
    assert ckpt["bn_params"][0]["running_mean"].shape == (8,)
    # numpy-only content: loads without pickle
    with np.load(tmp_path / "run_epoch_3.ckpt.npz", allow_pickle=False) as npz:
        assert "params/W1" in npz.files


def test_resume_continues_exactly(data, tmp_path):
    straight = make_solver(data, bn_dropout_net(), tmp_path / "a", num_epochs=4)
    straight.train()

    resumed = make_solver(data, bn_dropout_net(), tmp_path / "b", num_epochs=4)
    resumed.resume(str(tmp_path / "a" / "run_epoch_2.ckpt.npz"))
    assert resumed.epoch == 2 and resumed.iteration == 10
    resumed.train()

    assert resumed.loss_history == straight.loss_history
    assert resumed.val_acc_history == straight.val_acc_history
    for k in straight.model.params:
        assert np.array_equal(resumed.model.params[k], straight.model.params[k])
    for mine, theirs in zip(resumed.model.bn_params, straight.model.bn_params):
        assert np.array_equal(mine["running_var"], theirs["running_var"])


def test_resume_rejects_a_different_setup(data, tmp_path):
    make_solver(data, small_net(), tmp_path, num_epochs=1).train()
    ckpt = str(tmp_path / "run_epoch_1.ckpt.npz")
    other = Solver(small_net(), data, update_rule="adam", batch_size=12, verbose=False)
    with pytest.raises(ValueError, match="update_rule='sgd_momentum'"):
        other.resume(ckpt)
    wrong_model = make_solver(data, bn_dropout_net(), tmp_path, num_epochs=1)
    with pytest.raises(ValueError, match="do not match the model"):
        wrong_model.resume(ckpt)
    (tmp_path / "junk.ckpt.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable Solver checkpoint"):
        load_checkpoint(str(tmp_path / "junk.ckpt.npz"))
    with pytest.raises(FileNotFoundError):
        load_checkpoint(str(tmp_path / "missing.ckpt.npz"))


def test_bad_arguments_are_clear(data):
    model = small_net()
    with pytest.raises(ValueError, match=r"missing the keys \['y_val'\]"):
        Solver(model, {k: v for k, v in data.items() if k != "y_val"})
    with pytest.raises(ValueError, match="X_train .* and y_train .* same"):
        Solver(model, {**data, "y_train": data["y_train"][:-1]})
    with pytest.raises(ValueError, match="integer array of labels"):
        Solver(model, {**data, "y_val": data["y_val"].astype(float)})
    with pytest.raises(ValueError, match=r"update_rule must be one of \('sgd'"):
        Solver(model, data, update_rule="adagrad")
    with pytest.raises(ValueError, match=r"unrecognized arguments \['learning_rate'\]"):
        Solver(model, data, learning_rate=1e-3)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1"):
        Solver(model, data, batch_size=0)
    with pytest.raises(TypeError, match="needs a dict `params`"):
        Solver(object(), data)
