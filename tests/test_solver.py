"""cs231n.solver: training on a tiny problem, checkpoints and resume, option checks, a
subclass for another model family, and progress output that stays out of notebooks."""
import inspect
import os

import numpy as np
import pytest

from cs231n import optim
from cs231n import solver as solver_module
from cs231n.checkpoint import CheckpointError, save_checkpoint
from cs231n.classifiers.fc_net import FullyConnectedNet, TwoLayerNet
from cs231n.optim import OPTIM_KEYS
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
    for mine, theirs in zip(resumed.model.bn_params, straight.model.bn_params, strict=True):
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
    with pytest.raises(ValueError, match="junk.ckpt.npz is not a readable .npz file"):
        load_checkpoint(str(tmp_path / "junk.ckpt.npz"))
    with pytest.raises(FileNotFoundError):
        load_checkpoint(str(tmp_path / "missing.ckpt.npz"))


def test_resume_from_an_empty_or_foreign_file_names_it(data, tmp_path):
    solver = make_solver(data, small_net(), tmp_path, num_epochs=1)
    (tmp_path / "run_epoch_1.ckpt.npz").write_bytes(b"")        # e.g. a full disk
    with pytest.raises(CheckpointError, match=r"run_epoch_1\.ckpt\.npz is not a readable"):
        solver.resume(str(tmp_path / "run_epoch_1.ckpt.npz"))

    save_checkpoint(tmp_path / "other.ckpt.npz", {"weights": np.zeros(3)})
    with pytest.raises(CheckpointError, match="other.ckpt.npz is a checkpoint but not of a Solver"):
        solver.resume(str(tmp_path / "other.ckpt.npz"))


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


# ---------------------------------------------------------------------- optim_config and options


def test_a_misspelled_optim_config_key_names_it_and_the_valid_keys(data):
    with pytest.raises(ValueError, match=r"'learning_rat' is not used by update rule 'sgd' "
                                         r"\(did you mean 'learning_rate'\?\); its keys are "
                                         r"learning_rate$"):
        Solver(small_net(), data, optim_config={"learning_rat": 5.0})
    with pytest.raises(ValueError, match="'momentum' is not used by update rule 'adam'.*its "
                                         "keys are learning_rate, beta1, beta2, epsilon, m, v, t"):
        Solver(small_net(), data, update_rule="adam", optim_config={"momentum": 0.9})
    # cs231n.optim's functions passed directly are checked as their names
    with pytest.raises(ValueError, match="'beta1' is not used by update rule 'rmsprop'"):
        Solver(small_net(), data, update_rule=optim.rmsprop, optim_config={"beta1": 0.9})


@pytest.mark.parametrize("rule", sorted(OPTIM_KEYS))
def test_every_key_of_a_rule_is_accepted(data, rule):
    values = {"learning_rate": 1e-3, "momentum": 0.5, "decay_rate": 0.9, "epsilon": 1e-6,
              "beta1": 0.8, "beta2": 0.99, "t": 0}
    config = {k: values[k] for k in OPTIM_KEYS[rule] if k in values}
    solver = Solver(small_net(), data, update_rule=rule, optim_config=config, batch_size=30,
                    num_epochs=1, verbose=False)
    solver.train()
    for key, value in config.items():
        if key not in ("learning_rate", "t"):
            assert solver.optim_configs["W1"][key] == value     # the rule read our value


@pytest.mark.parametrize("config, message", [
    ({"learning_rate": -1e-3}, r"optim_config\['learning_rate'\] must be a number > 0"),
    ({"learning_rate": 0}, r"optim_config\['learning_rate'\] must be a number > 0"),
    ({"learning_rate": float("nan")}, "learning_rate'.* got nan"),
    ({"learning_rate": "1e-3"}, r"learning_rate'\] must be a number > 0, got '1e-3'"),
    ({"momentum": 1.5}, r"optim_config\['momentum'\] must be a number in \[0, 1\)"),
    ({"momentum": 1}, r"momentum'\] must be a number in \[0, 1\)"),
])
def test_nonsense_optim_values_are_refused(data, config, message):
    with pytest.raises(ValueError, match=message):
        Solver(small_net(), data, update_rule="sgd_momentum", optim_config=config)


def test_nonsense_adam_and_rmsprop_values_are_refused(data):
    with pytest.raises(ValueError, match=r"beta2'\] must be a number in \[0, 1\), got 1.0"):
        Solver(small_net(), data, update_rule="adam", optim_config={"beta2": 1.0})
    with pytest.raises(ValueError, match=r"epsilon'\] must be a number > 0, got 0.0"):
        Solver(small_net(), data, update_rule="adam", optim_config={"epsilon": 0.0})
    with pytest.raises(ValueError, match=r"optim_config\['t'\] must be an integer >= 0"):
        Solver(small_net(), data, update_rule="adam", optim_config={"t": -1})
    with pytest.raises(ValueError, match=r"decay_rate'\] must be a number in \[0, 1\)"):
        Solver(small_net(), data, update_rule="rmsprop", optim_config={"decay_rate": -0.1})


@pytest.mark.parametrize("lr_decay", [0, 0.0, -0.5, 1.01, float("nan"), float("inf"), True, "0.9"])
def test_lr_decay_outside_0_1_is_refused(data, lr_decay):
    with pytest.raises(ValueError, match=r"lr_decay must be a number in \(0, 1\]"):
        Solver(small_net(), data, lr_decay=lr_decay)


def test_lr_decay_of_one_and_other_edge_values_are_fine(data):
    Solver(small_net(), data, lr_decay=1, num_epochs=0, print_every=1, num_train_samples=None)
    Solver(small_net(), data, lr_decay=1e-3, batch_size=np.int64(5))


@pytest.mark.parametrize("kwargs, message", [
    ({"num_epochs": -1}, "num_epochs must be an integer >= 0"),
    ({"num_epochs": 2.5}, "num_epochs must be an integer >= 0"),
    ({"batch_size": True}, "batch_size must be an integer >= 1"),
    ({"num_train_samples": 0}, "num_train_samples must be an integer >= 1"),
    ({"num_val_samples": -5}, "num_val_samples must be an integer >= 1"),
    ({"print_every": 0}, "print_every must be an integer >= 1"),
    ({"update_rule": 3}, "update_rule must be one of"),
])
def test_nonsense_options_are_refused(data, kwargs, message):
    with pytest.raises(ValueError, match=message):
        Solver(small_net(), data, **kwargs)
    with pytest.raises(TypeError, match="checkpoint_name must be None or a path prefix"):
        Solver(small_net(), data, checkpoint_name=5)


def test_a_custom_update_rule_accepts_any_keys(data):
    seen = []

    def signsgd(w, dw, config):
        seen.append(sorted(config))
        return w - config["step"] * np.sign(dw), config

    solver = Solver(small_net(), data, update_rule=signsgd, optim_config={"step": 1e-3},
                    batch_size=30, num_epochs=1, verbose=False)
    solver.train()
    assert solver.update_rule_name == "signsgd" and seen[0] == ["step"]
    assert len(seen) == 2 * len(solver.model.params)          # 2 iterations, every parameter


# ---------------------------------------------------------------------- a second model family


class ToyCaptioner:
    """Predicts every word of a caption from the image features: loss(features, captions)."""

    def __init__(self, D, V):
        self.params = {"W": np.zeros((D, V))}

    def loss(self, features, captions):
        scores = features @ self.params["W"]                      # (N, V)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        N, T = captions.shape
        loss = -np.log(probs[np.arange(N)[:, None], captions]).mean()
        dscores = T * probs
        np.add.at(dscores, (np.repeat(np.arange(N), T), captions.ravel()), -1)
        return loss, {"W": features.T @ dscores / (N * T)}


class ToyCaptioningSolver(Solver):
    def _check_data(self, data):
        if "train_captions" not in data:
            raise ValueError("ToyCaptioningSolver: data needs train_captions")
        return len(data["train_captions"])

    def _sample_batch(self, batch_size):
        mask = np.random.choice(self.num_train, batch_size)
        images = self.data["train_image_idxs"][mask]
        return self.data["train_features"][images], self.data["train_captions"][mask]

    def _evaluate(self):
        return None          # no accuracy for captions


def caption_data(seed=0):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((8, 5))
    image_idxs = rng.integers(8, size=40)
    words = np.argmax(features @ rng.standard_normal((5, 6)), axis=1)     # a learnable word
    captions = np.stack([words[image_idxs]] * 3, axis=1)                  # (40, 3)
    return {"train_captions": captions, "train_image_idxs": image_idxs, "train_features": features}


def test_a_subclass_only_overrides_the_data_hooks(tmp_path):
    own = {k for k in vars(ToyCaptioningSolver) if not k.startswith("__")}
    assert own == {"_check_data", "_sample_batch", "_evaluate"}
    assert len(inspect.getsource(ToyCaptioningSolver).splitlines()) <= 15

    solver = ToyCaptioningSolver(ToyCaptioner(5, 6), caption_data(), update_rule="adam",
                                 optim_config={"learning_rate": 0.1}, batch_size=10,
                                 num_epochs=5, checkpoint_name=str(tmp_path / "cap"),
                                 verbose=False)
    solver.train()
    assert len(solver.loss_history) == 5 * 4
    assert solver.loss_history[-1] < 0.5 * solver.loss_history[0]
    assert solver.train_acc_history == [] and solver.best_params == {}
    assert solver.X_train is None

    resumed = ToyCaptioningSolver(ToyCaptioner(5, 6), caption_data(), update_rule="adam",
                                  optim_config={"learning_rate": 0.1}, batch_size=10,
                                  num_epochs=5, verbose=False)
    resumed.resume(str(tmp_path / "cap_epoch_2.ckpt.npz"))
    resumed.train()
    assert resumed.loss_history == solver.loss_history
    np.testing.assert_array_equal(resumed.model.params["W"], solver.model.params["W"])
    with pytest.raises(ValueError, match="data needs train_captions"):
        ToyCaptioningSolver(ToyCaptioner(5, 6), {"X_train": 1})


# ---------------------------------------------------------------------- progress and printing


def test_the_default_prints_a_few_dozen_lines_at_most(data, capsys):
    # 60 iterations per epoch, 600 in all: the course's every-10 default would print 60 lines
    Solver(small_net(), data, batch_size=1, num_epochs=10, num_train_samples=10).train()
    lines = capsys.readouterr().out.splitlines()
    iteration_lines = [line for line in lines if line.startswith("(Iteration")]
    assert 10 <= len(iteration_lines) <= 21 and len(lines) <= 40
    assert iteration_lines[0].startswith("(Iteration 1 / 600) loss:")
    assert iteration_lines[1].startswith("(Iteration 31 / 600) loss:")


def test_under_nbclient_a_run_leaves_one_widget_and_no_progress_text():
    """Executes a two-cell notebook in a real kernel, as nbval and the notebook runner do."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    train = ("import numpy as np\nfrom cs231n.solver import Solver\n"
             "from cs231n.classifiers.fc_net import TwoLayerNet\n"
             "rng = np.random.default_rng(0)\n"
             "X, y = rng.standard_normal((60, 4)), rng.integers(3, size=60)\n"
             "data = {'X_train': X, 'y_train': y, 'X_val': X[:20], 'y_val': y[:20]}\n"
             "Solver(TwoLayerNet(input_dim=4, hidden_dim=8, num_classes=3), data,\n"
             "       batch_size=1, num_epochs=5).train()\n")
    no_widgets = "import sys\nsys.modules['ipywidgets'] = None\n" + train
    with_widgets = "del sys.modules['ipywidgets']\n" + train
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(no_widgets),
                                         nbformat.v4.new_code_cell(with_widgets)])
    repo = os.path.dirname(os.path.dirname(os.path.abspath(solver_module.__file__)))
    nbclient.NotebookClient(nb, timeout=120, resources={"metadata": {"path": repo}}).execute()

    for cell, widgets in zip(nb.cells, (0, 1), strict=True):
        kinds = [o.output_type for o in cell.outputs]
        assert kinds.count("display_data") == widgets, kinds
        streams = [o for o in cell.outputs if o.output_type == "stream"]
        assert all(o.name == "stdout" for o in streams), streams          # no bar, no warning
        text = "".join(o.text for o in streams)
        assert "\r" not in text and "it/s" not in text
        assert text.count("(Iteration") == 20 and text.count("(Epoch") == 6
