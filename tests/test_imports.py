"""The imports the official 2018 notebooks write keep working, and give the official names."""
import importlib

import pytest

from cs231n import classifiers, fast_layers, layer_utils, layers
from cs231n.classifiers import neural_net

LAYERS = ["affine_forward", "affine_backward", "relu_forward", "relu_backward",
          "batchnorm_forward", "batchnorm_backward", "batchnorm_backward_alt",
          "layernorm_forward", "layernorm_backward", "dropout_forward", "dropout_backward",
          "conv_forward_naive", "conv_backward_naive", "max_pool_forward_naive",
          "max_pool_backward_naive", "spatial_batchnorm_forward", "spatial_batchnorm_backward",
          "spatial_groupnorm_forward", "spatial_groupnorm_backward", "svm_loss", "softmax_loss"]
LAYER_UTILS = ["affine_relu_forward", "affine_relu_backward", "conv_relu_forward",
               "conv_relu_backward", "conv_bn_relu_forward", "conv_bn_relu_backward",
               "conv_relu_pool_forward", "conv_relu_pool_backward"]
FAST_LAYERS = ["conv_forward_fast", "conv_backward_fast", "conv_forward_im2col",
               "conv_backward_im2col", "conv_forward_strides", "conv_backward_strides",
               "max_pool_forward_fast", "max_pool_backward_fast", "max_pool_forward_reshape",
               "max_pool_backward_reshape", "max_pool_forward_im2col", "max_pool_backward_im2col"]


def star(module: str) -> dict:
    """What `from module import *` binds: the names in __all__ if the module has one, else
    its public names (Python's rule); a name in __all__ that is missing raises, as there."""
    mod = importlib.import_module(module)
    names = getattr(mod, "__all__", None)
    if names is None:
        names = [name for name in vars(mod) if not name.startswith("_")]
    return {name: getattr(mod, name) for name in names}


def test_the_official_assignment1_imports():
    from cs231n.classifiers import KNearestNeighbor, LinearSVM, Softmax
    from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
    from cs231n.classifiers.neural_net import TwoLayerNet
    from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

    assert TwoLayerNet is neural_net.TwoLayerNet
    assert LinearSVM.__module__ == Softmax.__module__ == "cs231n.classifiers.linear_classifier"
    assert KNearestNeighbor.__module__ == "cs231n.classifiers.k_nearest_neighbor"
    assert all(callable(f) for f in (svm_loss_naive, svm_loss_vectorized, softmax_loss_naive,
                                     softmax_loss_vectorized))


def test_the_ambiguous_two_layer_net_import_names_both_modules():
    with pytest.raises(ImportError, match=r"cs231n\.classifiers\.neural_net import TwoLayerNet.*"
                                          r"cs231n\.classifiers\.fc_net import TwoLayerNet"):
        from cs231n.classifiers import TwoLayerNet  # noqa: F401
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = classifiers.Nothing


def test_the_classifiers_package_exports_only_assignment1_names():
    assert sorted(star("cs231n.classifiers")) == sorted(
        ["KNearestNeighbor", "LinearClassifier", "LinearSVM", "Softmax",
         "softmax_loss_naive", "softmax_loss_vectorized", "svm_loss_naive",
         "svm_loss_vectorized"])


@pytest.mark.parametrize("module, names", [
    ("cs231n.layers", LAYERS),
    ("cs231n.layer_utils", LAYER_UTILS),
    ("cs231n.fast_layers", FAST_LAYERS),
    ("cs231n.classifiers.fc_net", [*LAYERS, *LAYER_UTILS, "TwoLayerNet", "FullyConnectedNet"]),
    ("cs231n.classifiers.cnn", [*LAYERS, *LAYER_UTILS, *FAST_LAYERS, "ThreeLayerConvNet"]),
])
def test_star_imports_give_the_official_names(module, names):
    namespace = star(module)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"`from {module} import *` lacks {missing}"
    home = {**dict.fromkeys(LAYERS, layers), **dict.fromkeys(LAYER_UTILS, layer_utils),
            **dict.fromkeys(FAST_LAYERS, fast_layers)}
    for name in names:
        owner = home.get(name, importlib.import_module(module))
        assert namespace[name] is getattr(owner, name), name


def test_star_imports_give_no_helpers():
    for module in ("cs231n.layers", "cs231n.layer_utils", "cs231n.fast_layers",
                   "cs231n.classifiers.fc_net", "cs231n.classifiers.cnn"):
        private = [name for name in star(module) if name.startswith("_")]
        assert not private, (module, private)
        assert "check_int" not in star(module), module
