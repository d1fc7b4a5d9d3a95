import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FULL_DATA = os.environ.get("CS231N_DATA")
needs_full_data = pytest.mark.skipif(
    not (FULL_DATA and (Path(FULL_DATA) / "cifar-10-batches-py").is_dir()),
    reason="set CS231N_DATA to the full data to run this test")


@pytest.fixture(autouse=True)
def _seed():
    np.random.seed(0)


def assert_framework_isolation(cases) -> None:
    """Import each `cs231n.<module>` in a fresh interpreter and check that none of its forbidden
    packages got imported: cases = ((module, (forbidden, ...)), ...), run side by side."""
    code = ("import sys, importlib; importlib.import_module('cs231n.{mod}'); "
            "bad = [m for m in {others} if m in sys.modules]; assert not bad, f'{mod} imported {{bad}}'")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
           "TF_CPP_MIN_LOG_LEVEL": "2"}
    procs = [subprocess.Popen([sys.executable, "-c", code.format(mod=mod, others=others)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for mod, others in cases]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-2000:]


# --------------------------------------------------------------------------- grading tasks
# Every task is a pytest marker (registered in pyproject.toml): `pytest -m knn` runs one task's
# tests and `python -m workbook.grade DIR` scores each task. The markers are given here, not in
# the test files: (test file pattern, regex searched in the test function's name or None for
# every test of the file, task); the first matching row wins.
TASKS = ("knn", "svm", "softmax", "two_layer_net", "features",
         "fc_net", "optim", "batchnorm", "dropout", "conv", "pytorch", "tensorflow",
         "rnn", "lstm", "captioning", "transformer", "net_visualization", "style_transfer", "gan")
TASK_TABLE = [
    ("test_k_nearest_neighbor.py", None, "knn"),
    ("test_linear_svm.py", None, "svm"),
    ("test_linear_classifier.py", None, "svm"),
    ("test_softmax.py", None, "softmax"),
    ("test_neural_net.py", None, "two_layer_net"),
    ("test_layers.py", r"batchnorm|layernorm|groupnorm|running_stats", "batchnorm"),
    ("test_layers.py", r"dropout", "dropout"),
    ("test_layers.py", r"conv|max_pool", "conv"),
    ("test_layers.py", r"affine|relu|svm_loss|softmax_loss|losses|empty_batches", "fc_net"),
    ("test_layer_utils.py", r"norm", "batchnorm"),
    ("test_layer_utils.py", r"conv", "conv"),
    ("test_layer_utils.py", r"affine_relu", "fc_net"),
    ("test_fc_net.py", None, "fc_net"),
    ("test_solver.py", None, "fc_net"),
    ("test_optim.py", None, "optim"),
    ("test_cnn.py", None, "conv"),
    ("test_fast_layers.py", None, "conv"),
    ("test_im2col.py", None, "conv"),
    ("test_cifar10_pytorch*.py", None, "pytorch"),
    ("test_cifar10_tensorflow*.py", None, "tensorflow"),
    ("test_rnn_layers.py", r"lstm", "lstm"),
    ("test_rnn_layers.py", None, "rnn"),
    ("test_rnn.py", None, "captioning"),
    ("test_captioning_solver.py", None, "captioning"),
    ("test_transformer_layers.py", None, "transformer"),
    ("test_transformer.py", None, "transformer"),
    ("test_captioning_solver_transformer.py", None, "transformer"),
    ("test_net_visualization*.py", None, "net_visualization"),
    ("test_style_transfer*.py", None, "style_transfer"),
    ("test_gan_pytorch.py", None, "gan"),
    ("test_gan_tensorflow.py", None, "gan"),
]
# Tasks whose student work is all in notebook cells: the course gives their package code
# (cs231n/features.py), so no test grades them; the grader lists them as graded by reading the
# notebook, and the tests of their given code are in UNGRADED.
NOTEBOOK_TASKS = ("features",)
# Test files that grade no task: tooling, data, and given (not student-written) code.
UNGRADED = ("test_config.py", "test_data_utils.py", "test_data_augmentation.py",
            "test_features.py", "test_get_datasets.py", "test_gradient_check.py", "test_vis_utils.py",
            "test_display.py", "test_timing.py", "test_results.py", "test_starter.py",
            "test_starter_frameworks.py",
            "test_grade.py", "test_run_notebooks.py", "test_coco_utils.py", "test_image_utils.py",
            "test_checkpoint.py", "test_imports.py", "test_progress.py",
            "test_captioning_metrics.py", "test_captioning_corpus.py", "test_squeezenet.py",
            "test_cifar10_training.py", "test_gan_scoring.py", "test_legacy_dropout_pytorch.py",
            "test_bench.py")


def task_for(filename: str, test_name: str) -> str | None:
    """The task of test function `test_name` in tests/`filename`, or None (ungraded)."""
    for pattern, name_regex, task in TASK_TABLE:
        if fnmatch.fnmatch(filename, pattern) and (
                name_regex is None or re.search(name_regex, test_name)):
            return task
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    for item in items:
        task = task_for(item.path.name, getattr(item, "originalname", item.name))
        if task is not None:
            item.add_marker(task)
            item.user_properties.append(("task", task))
