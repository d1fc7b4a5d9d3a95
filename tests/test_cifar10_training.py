"""cifar10_training: data, schedule and loop shared by the frameworks; each framework module
imports only its own framework (the kit versions: tests/test_starter*.py)."""
import itertools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cs231n import cifar10_training as C
from cs231n.config import REPO_ROOT

pytestmark = pytest.mark.a2
MODULES = ["cifar10_training", "cifar10_pytorch", "cifar10_tensorflow"]


# --------------------------------------------------------------------------- data

def test_channel_mean_std_matches_numpy():
    X = np.random.randn(5, 4, 3, 2) * [1.0, 2.0] + [3.0, -1.0]
    mean, std = C.channel_mean_std(X)
    assert np.allclose(mean, X.reshape(-1, 2).mean(0)) and np.allclose(std, X.reshape(-1, 2).std(0))
    mean1, _ = C.channel_mean_std(X.transpose(0, 3, 1, 2), channel_axis=1)
    assert np.allclose(mean, mean1)
    with pytest.raises(ValueError, match="4-D"):
        C.channel_mean_std(X[0])


def test_load_cifar10_normalizes_with_training_statistics():
    data = C.load_cifar10(num_training=1000, num_validation=0, num_test=100)
    assert data["X_train"].shape == (1000, 3, 32, 32) and data["X_train"].dtype == np.float32
    assert data["X_test"].shape == (100, 3, 32, 32) and data["y_train"].dtype == np.int64
    assert np.allclose(data["X_train"].mean(axis=(0, 2, 3)), 0, atol=1e-4)
    assert np.allclose(data["X_train"].std(axis=(0, 2, 3)), 1, atol=1e-4)
    # the test images are shifted and scaled by the TRAINING statistics, not their own
    assert not np.allclose(data["X_test"].mean(axis=(0, 2, 3)), 0, atol=1e-4)
    nhwc = C.load_cifar10(num_training=1000, num_validation=0, num_test=100, channels_first=False)
    assert np.array_equal(nhwc["X_test"], data["X_test"].transpose(0, 2, 3, 1))


# --------------------------------------------------------------------------- schedule and loop

def test_one_cycle_lr_warms_up_then_decays_to_zero():
    lrs = [C.one_cycle_lr(s, 100, 0.4, warmup_frac=0.2) for s in range(100)]
    assert lrs[0] == pytest.approx(0.02) and lrs[19] == pytest.approx(0.4)
    assert max(lrs) == pytest.approx(0.4) and lrs[-1] == pytest.approx(0.4 / 80)
    assert all(a <= b for a, b in itertools.pairwise(lrs[:20]))
    assert all(a >= b for a, b in itertools.pairwise(lrs[19:]))


def test_train_loop_steps_evaluates_and_records():
    seen, evals = [], []
    history = C.train_loop(lambda x, y: seen.append((x, y)) or 1.0 / (len(seen)),
                           lambda: evals.append(len(seen)) or 0.5,
                           lambda: [(i, -i) for i in range(5)], per_epoch=3, epochs=2, print_every=2)
    assert seen == [(0, 0), (1, -1), (2, -2)] * 2  # per_epoch batches of each epoch
    assert history["loss"] == pytest.approx([1 / n for n in range(1, 7)])
    assert [t for t, _ in history["val_acc"]] == [0, 2, 4, 6] and evals == [1, 3, 5, 6]


def test_train_loop_stops_at_a_non_finite_loss():
    losses = iter([2.0, float("nan")])
    with pytest.raises(FloatingPointError, match="iteration 1"):
        C.train_loop(lambda x, y: next(losses), lambda: 0.5, lambda: [(0, 0)] * 3, per_epoch=3)


def test_task_result_passes_values_and_names_a_missing_task():
    assert C.task_result(0, "t", "nb.ipynb") == 0
    with pytest.raises(NotImplementedError, match="three_layer_convnet.*PyTorch.ipynb"):
        C.task_result(None, "three_layer_convnet", "assignment2/PyTorch.ipynb")


# --------------------------------------------------------------------------- framework isolation

def _python(code: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter on this checkout's package, TF_CPP_MIN_LOG_LEVEL unset."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=REPO_ROOT, env=env)


def _modules_loaded_by(module: str) -> set[str]:
    out = _python(f"import json, sys; import cs231n.{module}; "
                  "print(json.dumps(sorted(m.split('.')[0] for m in sys.modules)))")
    return set(json.loads(out.stdout.splitlines()[-1]))


@pytest.mark.slow
@pytest.mark.parametrize("module, present, absent", [
    ("cifar10_training", set(), {"torch", "tensorflow", "keras"}),
    ("cifar10_pytorch", {"torch"}, {"tensorflow", "keras"}),
    ("cifar10_tensorflow", {"tensorflow", "keras"}, {"torch"}),
])
def test_each_module_imports_only_its_own_framework(module, present, absent):
    loaded = _modules_loaded_by(module)
    assert present <= loaded and not absent & loaded


@pytest.mark.slow
@pytest.mark.parametrize("module", ["cifar10_tensorflow", "net_visualization_tensorflow",
                                    "style_transfer_tensorflow", "classifiers.squeezenet_tensorflow",
                                    "gan_tensorflow"])
def test_importing_a_tensorflow_module_leaves_no_startup_noise(module):
    out = _python(f"import cs231n.{module} as T; T.tf.constant(1.0) + 1")
    assert out.stderr == "" and out.stdout == ""
