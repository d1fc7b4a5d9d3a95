"""Assignment-1 classifiers, importable as in the course: `from cs231n.classifiers import LinearSVM`."""
from cs231n.classifiers.k_nearest_neighbor import *  # noqa: F401,F403
from cs231n.classifiers.linear_classifier import *  # noqa: F401,F403
from cs231n.classifiers.linear_svm import *  # noqa: F401,F403
from cs231n.classifiers.neural_net import *  # noqa: F401,F403
from cs231n.classifiers.softmax import *  # noqa: F401,F403
