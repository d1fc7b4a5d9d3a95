"""Assignment-1 classifiers, importable as in the course: `from cs231n.classifiers import LinearSVM`.

There are two TwoLayerNet classes, as in the course, with different signatures: assignment 1's
in cs231n.classifiers.neural_net (input_size, hidden_size, output_size, std) and assignment
2's in cs231n.classifiers.fc_net (input_dim, hidden_dim, num_classes, weight_scale, reg).
Neither is exported here: `from cs231n.classifiers import TwoLayerNet` raises an ImportError
that names both modules, instead of silently picking one.
"""
from cs231n.classifiers.k_nearest_neighbor import KNearestNeighbor
from cs231n.classifiers.linear_classifier import LinearClassifier, LinearSVM, Softmax
from cs231n.classifiers.linear_svm import svm_loss_naive, svm_loss_vectorized
from cs231n.classifiers.softmax import softmax_loss_naive, softmax_loss_vectorized

__all__ = [
    "KNearestNeighbor",
    "LinearClassifier",
    "LinearSVM",
    "Softmax",
    "softmax_loss_naive",
    "softmax_loss_vectorized",
    "svm_loss_naive",
    "svm_loss_vectorized",
]


def __getattr__(name: str):
    # An ImportError (not AttributeError) so that `from cs231n.classifiers import TwoLayerNet`
    # shows this message rather than Python's generic "cannot import name".
    if name == "TwoLayerNet":
        raise ImportError(
            "cs231n.classifiers has two TwoLayerNet classes; import the one you mean: "
            "`from cs231n.classifiers.neural_net import TwoLayerNet` (assignment 1, "
            "two_layer_net.ipynb) or `from cs231n.classifiers.fc_net import TwoLayerNet` "
            "(assignment 2, FullyConnectedNets.ipynb)")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
