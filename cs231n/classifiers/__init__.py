"""Assignment-1 classifiers, importable as in the course: `from cs231n.classifiers import LinearSVM`."""
from cs231n.classifiers.k_nearest_neighbor import *
from cs231n.classifiers.linear_classifier import *
from cs231n.classifiers.linear_svm import *
from cs231n.classifiers.neural_net import *
from cs231n.classifiers.softmax import *
