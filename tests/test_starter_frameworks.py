"""The starter kit's versions of the CIFAR-10 framework modules: every task's stub raises
NotImplementedError naming the task, and the given code around the stubs still works.
(Tooling test: it needs workbook.starter, which the kit does not ship.)"""
import importlib.util

import numpy as np
import pytest
import torch

from cs231n import cifar10_pytorch as P
from cs231n import cifar10_tensorflow as T  # imports TensorFlow quietly: before tf
from cs231n.config import REPO_ROOT
from workbook.starter import strip_solutions

tf = T.tf
CPU = torch.device("cpu")


def _starter_version(module, folder):
    """cs231n/<module>.py as the starter kit ships it (each task's code replaced by a stub),
    written to `folder` and imported from there under another name."""
    source, _ = strip_solutions((REPO_ROOT / "cs231n" / f"{module}.py").read_text())
    path = folder / f"starter_{module}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"starter_{module}", path)
    stub = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(stub)
    return stub


def _conv_params(c1=6, c2=9, hw=8, k=10):
    """Random barebones three-layer convnet parameters for (N, 3, hw, hw) inputs."""
    return [P.random_weight((c1, 3, 5, 5), CPU), torch.randn(c1, requires_grad=True),
            P.random_weight((c2, c1, 3, 3), CPU), torch.randn(c2, requires_grad=True),
            P.random_weight((c2 * hw * hw, k), CPU), torch.randn(k, requires_grad=True)]


def test_pytorch_starter_imports_and_each_task_asks_for_its_code(tmp_path):
    S = _starter_version("cifar10_pytorch", tmp_path)
    x, y = torch.randn(2, 3, 32, 32), torch.tensor([0, 1])
    model = P.CifarNet(widths=(4, 4, 4), stem_width=4)
    optimizer = P.open_ended_optimizer(model)
    calls = {
        "three_layer_convnet": lambda: S.three_layer_convnet(x, _conv_params(hw=32)),
        "training_step": lambda: S.training_step(P.two_layer_fc, x, y, [
            P.random_weight((3072, 8), CPU), P.random_weight((8, 10), CPU)], 1e-2),
        "ThreeLayerConvNet": lambda: S.ThreeLayerConvNet(3, 4, 4, 10)(x),
        "three_layer_convnet_sequential": lambda: S.three_layer_convnet_sequential(3, 4, 4, 10),
        "CifarNet": lambda: S.CifarNet(widths=(4, 4, 4), stem_width=4)(x),
        "augment_batch": lambda: S.augment_batch(x),
        "open_ended_optimizer": lambda: S.open_ended_optimizer(model),
        "open_ended_step": lambda: S.open_ended_step(model, optimizer, x, y, lr=0.1),
    }
    for task, call in calls.items():
        with pytest.raises(NotImplementedError, match=task):
            call()
    assert S.two_layer_fc(x, [torch.ones(3072, 5), torch.ones(5, 10)]).shape == (2, 10)  # given


def test_tensorflow_starter_imports_and_each_task_asks_for_its_code(tmp_path):
    S = _starter_version("cifar10_tensorflow", tmp_path)
    x = tf.zeros((2, 32, 32, 3))
    data = {"X_train": np.zeros((4, 32, 32, 3), np.float32), "y_train": np.arange(4)}
    calls = {
        "three_layer_convnet": lambda: S.three_layer_convnet(x, T.three_layer_convnet_init()),
        "three_layer_convnet_init": lambda: S.three_layer_convnet_init(),
        "training_step": lambda: S.training_step(T.two_layer_fc, x, tf.constant([0, 1]),
                                                 T.two_layer_fc_init(3072, 8, 10), 1e-2),
        "ThreeLayerConvNet": lambda: S.ThreeLayerConvNet(4, 4, 10)(x),
        "three_layer_convnet_sequential": lambda: S.three_layer_convnet_sequential((32, 32, 3), 4, 4, 10),
        "three_layer_convnet_functional": lambda: S.three_layer_convnet_functional((32, 32, 3), 4, 4, 10),
        "cifar_net": lambda: S.cifar_net(widths=(4, 4, 4), stem_width=4),
        "augment_batch": lambda: S.augment_batch(x, tf.constant([0, 1])),
        "open_ended_dataset": lambda: S.open_ended_dataset(data, 2, 1, 1),
        "compile_open_ended": lambda: S.compile_open_ended(T.cifar_net((4, 4, 4), 4), 10),
    }
    for task, call in calls.items():
        with pytest.raises(NotImplementedError, match=task):
            call()
    assert S.two_layer_fc(x, [tf.ones((3072, 5)), tf.ones((5, 10))]).shape == (2, 10)  # given
