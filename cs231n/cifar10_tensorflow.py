"""CIFAR-10 in TensorFlow 2 / Keras 3 (assignment 2): the same networks at three levels of abstraction.

The 2018 course used TensorFlow 1 (graphs, placeholders, sessions). Here everything is eager
TensorFlow 2 with Keras 3, teaching the same three levels:

- Part II, barebones: parameters are ``tf.Variable``s, the forward passes `two_layer_fc` and
  `three_layer_convnet` are plain functions, ``tf.GradientTape`` records them and
  `training_step` makes the SGD update by hand.
- Part III, Keras Model API: `TwoLayerFC` and `ThreeLayerConvNet` subclass ``keras.Model``;
  a Keras optimizer updates them (`train_part34`).
- Part IV, Sequential and functional APIs: the same nets as ``keras.Sequential`` stacks and
  as functional graphs ``keras.Model(inputs, outputs)``.
- Part V, open-ended: `cifar_net` (the Keras twin of `cs231n.cifar10_pytorch.CifarNet`) trained
  with ``model.fit`` by `train_open_ended`.

TensorFlow's layouts differ from PyTorch's: images are (N, H, W, C) and convolution kernels
(HH, WW, C, F). `conv_weight_torch_to_tf` and friends convert between the two, so the two
frameworks can be checked against each other with the same weights.

What the two frameworks share (data, the training loop, the schedule) is in the numpy-only
`cs231n.cifar10_training`; this module never imports PyTorch. Importing it also imports
TensorFlow without its C++ start-up lines (see `cs231n._tensorflow`): import it before
``import tensorflow`` in a notebook.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from cs231n import cifar10_training
from cs231n._tensorflow import keras, tf
from cs231n.cifar10_training import task_result, train_loop

Params = list[tf.Variable]
NOTEBOOK = "assignment2/TensorFlow.ipynb"


def kaiming() -> keras.initializers.Initializer:
    """A fresh Kaiming initializer, N(0, 2 / fan_in) truncated at 2 std, for one layer.

    One instance per layer: a Keras 3 initializer without a seed returns the SAME values every
    time the same instance is called, so a shared instance would give same-shaped layers equal
    weights.
    """
    return keras.initializers.VarianceScaling(scale=2.0)


# --------------------------------------------------------------------------- data

def load_cifar10(num_training: int = 49000, num_validation: int = 1000, num_test: int = 10000) -> dict:
    """CIFAR-10 in TensorFlow's layout: the course split, normalized per channel with the
    training split's mean and std (see `cs231n.cifar10_training.load_cifar10`).

    Returns a dict with X_train, X_val, X_test (N, 32, 32, 3) float32, y_train, y_val, y_test
    (N,) int64, and mean, std (3,).
    """
    return cifar10_training.load_cifar10(num_training, num_validation, num_test,
                                         channels_first=False)


def cifar10_datasets(data: dict, batch_size: int = 64, seed: int = 0
                     ) -> tuple[tf.data.Dataset, tf.data.Dataset, tf.data.Dataset]:
    """tf.data pipelines over the arrays of `load_cifar10`.

    Returns (train_dset, val_dset, test_dset), each yielding x (B, 32, 32, 3) float32 and
    y (B,) int64; train_dset reshuffles every epoch (seeded), the others keep their order.
    """
    def dataset(name):
        return tf.data.Dataset.from_tensor_slices((data[f"X_{name}"], data[f"y_{name}"]))

    train = dataset("train").shuffle(len(data["X_train"]), seed=seed, reshuffle_each_iteration=True)
    return (train.batch(batch_size).prefetch(2), dataset("val").batch(batch_size),
            dataset("test").batch(batch_size))


# --------------------------------------------------------------------------- layouts: PyTorch <-> TF

def images_nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """(N, C, H, W) PyTorch images -> (N, H, W, C) TensorFlow images."""
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))


def conv_weight_torch_to_tf(w: np.ndarray) -> np.ndarray:
    """A PyTorch convolution weight (F, C, HH, WW) -> the TensorFlow kernel (HH, WW, C, F)."""
    if np.ndim(w) != 4:
        raise ValueError(f"conv weight must be 4-D (F, C, HH, WW), got shape {np.shape(w)}")
    return np.ascontiguousarray(np.transpose(w, (2, 3, 1, 0)))


def conv_weight_tf_to_torch(w: np.ndarray) -> np.ndarray:
    """A TensorFlow convolution kernel (HH, WW, C, F) -> the PyTorch weight (F, C, HH, WW)."""
    if np.ndim(w) != 4:
        raise ValueError(f"conv kernel must be 4-D (HH, WW, C, F), got shape {np.shape(w)}")
    return np.ascontiguousarray(np.transpose(w, (3, 2, 0, 1)))


def _fc_shape(fc_w, channels: int, height: int, width: int) -> tuple[int, int]:
    D, M = np.shape(fc_w)
    if D != channels * height * width:
        raise ValueError(f"fc weight has {D} rows but C*H*W = {channels}*{height}*{width} = "
                         f"{channels * height * width}")
    return D, M


def fc_weight_torch_to_tf(fc_w: np.ndarray, channels: int, height: int, width: int) -> np.ndarray:
    """Reorder the rows of a fully-connected weight that follows a flatten.

    Flattening (N, C, H, W) orders the features c, h, w; flattening (N, H, W, C) orders them
    h, w, c. The same layer therefore needs its D = C * H * W rows permuted.
    Inputs: fc_w (C * H * W, M) in PyTorch's order. Returns (H * W * C, M) in TensorFlow's.
    """
    D, M = _fc_shape(fc_w, channels, height, width)
    return np.ascontiguousarray(
        np.reshape(fc_w, (channels, height, width, M)).transpose(1, 2, 0, 3).reshape(D, M))


def fc_weight_tf_to_torch(fc_w: np.ndarray, channels: int, height: int, width: int) -> np.ndarray:
    """The inverse of `fc_weight_torch_to_tf`: (H * W * C, M) -> (C * H * W, M)."""
    D, M = _fc_shape(fc_w, channels, height, width)
    return np.ascontiguousarray(
        np.reshape(fc_w, (height, width, channels, M)).transpose(2, 0, 1, 3).reshape(D, M))


def convnet_params_torch_to_tf(params: Sequence, height: int = 32, width: int = 32) -> list[np.ndarray]:
    """Barebones three-layer convnet parameters from PyTorch's layouts to TensorFlow's.

    Inputs: [conv_w1 (F1, 3, 5, 5), conv_b1, conv_w2 (F2, F1, 3, 3), conv_b2, fc_w (F2*H*W, K),
    fc_b] as numpy arrays (or tensors with .numpy()), for (height, width) images.
    Returns the same list as numpy arrays in TensorFlow's layouts, for `three_layer_convnet`.
    """
    w1, b1, w2, b2, fc_w, fc_b = (np.asarray(p) for p in params)
    return [conv_weight_torch_to_tf(w1), b1, conv_weight_torch_to_tf(w2), b2,
            fc_weight_torch_to_tf(fc_w, w2.shape[0], height, width), fc_b]


# --------------------------------------------------------------------------- Part II: barebones

def flatten(x) -> tf.Tensor:
    """(N, d1, ..., dM) -> (N, d1 * ... * dM); an (N, H, W, C) batch flattens in H, W, C order."""
    N = tf.shape(x)[0]
    return tf.reshape(x, (N, -1))


def two_layer_fc(x, params: Params) -> tf.Tensor:
    """Forward pass of fully connected - ReLU - fully connected, without biases.

    Inputs: x (N, d1, ..., dM) with D = d1 * ... * dM; params [w1 (D, H), w2 (H, K)].
    Returns scores (N, K).
    """
    w1, w2 = params
    h = tf.nn.relu(tf.matmul(flatten(x), w1))
    return tf.matmul(h, w2)


def three_layer_convnet(x, params: Params) -> tf.Tensor:
    """Forward pass of conv5x5(pad 2) - ReLU - conv3x3(pad 1) - ReLU - fully connected.

    Inputs:
    - x: (N, H, W, 3) images
    - params: [conv_w1 (5, 5, 3, F1), conv_b1 (F1,), conv_w2 (3, 3, F1, F2), conv_b2 (F2,),
      fc_w (H * W * F2, K), fc_b (K,)]
    Returns scores (N, K).
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    scores = None
    ###########################################################################
    # TODO: Implement the forward pass of the three-layer ConvNet with tf.nn: #
    # a 5x5 convolution with conv_w1 (stride 1, zero-padding 2 on each side   #
    # of H and W) plus conv_b1, ReLU, a 3x3 convolution with conv_w2          #
    # (padding 1) plus conv_b2, ReLU, then `flatten` and the fully connected  #
    # layer fc_w, fc_b. Store the (N, K) scores in scores.                    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    pad2, pad1 = [[0, 0], [2, 2], [2, 2], [0, 0]], [[0, 0], [1, 1], [1, 1], [0, 0]]
    h1 = tf.nn.relu(tf.nn.conv2d(x, conv_w1, strides=1, padding=pad2) + conv_b1)
    h2 = tf.nn.relu(tf.nn.conv2d(h1, conv_w2, strides=1, padding=pad1) + conv_b2)
    scores = tf.matmul(flatten(h2), fc_w) + fc_b
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(scores, "three_layer_convnet", NOTEBOOK)


def kaiming_normal(shape: Sequence[int]) -> tf.Tensor:
    """Kaiming normal values N(0, 2 / fan_in) (the course's TensorFlow helper).

    Inputs: shape (D, M) for a fully-connected weight (fan_in = D) or (HH, WW, C, F) for a
    convolution kernel (fan_in = HH * WW * C). Returns a float32 tensor of that shape.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 4):
        raise ValueError(f"kaiming_normal: shape must be (D, M) or (HH, WW, C, F), got {shape}")
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[:3]))
    return tf.random.normal(shape) * math.sqrt(2.0 / fan_in)


def random_weight(shape: Sequence[int]) -> tf.Variable:
    """A trainable tf.Variable with Kaiming normal values (see kaiming_normal)."""
    return tf.Variable(kaiming_normal(shape))


def zero_weight(shape: Sequence[int]) -> tf.Variable:
    """A trainable tf.Variable of zeros (for biases)."""
    return tf.Variable(tf.zeros(tuple(shape)))


def two_layer_fc_init(input_size: int = 3 * 32 * 32, hidden_size: int = 4000,
                      num_classes: int = 10) -> Params:
    """Kaiming-initialized [w1 (D, H), w2 (H, K)] for `two_layer_fc`."""
    return [random_weight((input_size, hidden_size)), random_weight((hidden_size, num_classes))]


def three_layer_convnet_init(channel_1: int = 32, channel_2: int = 16, num_classes: int = 10,
                             height: int = 32, width: int = 32) -> Params:
    """Parameters of `three_layer_convnet` for (N, height, width, 3) images: Kaiming normal
    weights, zero biases. Returns [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b]."""
    params = None
    ###########################################################################
    # TODO: Create the parameters of three_layer_convnet, the list [conv_w1,  #
    # conv_b1, conv_w2, conv_b2, fc_w, fc_b]: the kernels                     #
    # (5, 5, 3, channel_1) and (3, 3, channel_1, channel_2) and the fully     #
    # connected weight (height * width * channel_2, num_classes) with         #
    # random_weight, the biases with zero_weight. Store the list in params.   #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    params = [random_weight((5, 5, 3, channel_1)), zero_weight((channel_1,)),
              random_weight((3, 3, channel_1, channel_2)), zero_weight((channel_2,)),
              random_weight((height * width * channel_2, num_classes)), zero_weight((num_classes,))]
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(params, "three_layer_convnet_init", NOTEBOOK)


def training_step(model_fn: Callable, x, y, params: Params, learning_rate: float) -> float:
    """One step of vanilla SGD on a barebones model, with tf.GradientTape.

    Inputs:
    - model_fn: scores = model_fn(x, params)
    - x: (N, ...) minibatch; y: (N,) integer labels in [0, K)
    - params: tf.Variables, updated in place with assign_sub
    - learning_rate: the SGD step size
    Returns the mean softmax cross-entropy of the batch BEFORE the update (a float).
    """
    loss = None
    ###########################################################################
    # TODO: Implement one step of SGD. Inside a tf.GradientTape, compute the  #
    # scores with model_fn and the mean softmax cross-entropy of the batch    #
    # (tf.nn.sparse_softmax_cross_entropy_with_logits); get the gradients of  #
    # the loss with respect to params from the tape, and update each          #
    # parameter in place with assign_sub(learning_rate * gradient). Store the #
    # loss tensor in loss.                                                    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    with tf.GradientTape() as tape:  # records the forward pass, so it can be replayed backwards
        scores = model_fn(x, params)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=scores))
    grads = tape.gradient(loss, params)
    for w, dw in zip(params, grads, strict=True):
        w.assign_sub(learning_rate * dw)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return float(task_result(loss, "training_step", NOTEBOOK))


def check_accuracy(dset: tf.data.Dataset, model_fn: Callable, params: Params | None = None) -> float:
    """Classification accuracy on a dataset.

    Inputs:
    - dset: yields x (B, ...) and y (B,)
    - model_fn: a barebones function scores = model_fn(x, params), or (params=None) a Keras
      model, called with training=False
    Returns the fraction of correct predictions (and prints it).
    """
    correct = total = 0
    for x, y in dset:
        scores = model_fn(x, params) if params is not None else model_fn(x, training=False)
        correct += int(tf.reduce_sum(tf.cast(tf.argmax(scores, axis=1) == tf.cast(y, tf.int64), tf.int32)))
        total += int(tf.shape(y)[0])
    if total == 0:
        raise ValueError("check_accuracy: the dataset is empty")
    acc = correct / total
    print(f"Got {correct} / {total} correct ({100 * acc:.2f}%)")
    return acc


def _per_epoch(dset: tf.data.Dataset, max_iters: int | None) -> int:
    n = int(dset.cardinality())
    if n < 0 and max_iters is None:
        raise ValueError("the training dataset has an unknown length: pass max_iters")
    return n if max_iters is None else min(n, max_iters) if n >= 0 else max_iters


def train_part2(model_fn: Callable, init_fn: Callable[[], Params], learning_rate: float,
                train_dset: tf.data.Dataset, val_dset: tf.data.Dataset, print_every: int = 100,
                max_iters: int | None = None) -> tuple[Params, dict]:
    """Train a barebones model for one epoch with hand-written SGD (`training_step`).

    Inputs:
    - model_fn: scores = model_fn(x, params)
    - init_fn: params = init_fn(), the initial tf.Variables
    - learning_rate: SGD step size
    - train_dset, val_dset: the data; validation accuracy is checked every print_every
      iterations and after the last one
    - max_iters: stop after this many batches (quick runs); None for the whole epoch
    Returns (params, history) with history "loss" (per iteration) and "val_acc" (list of
    (iteration, accuracy)).
    """
    params = init_fn()
    per_epoch = _per_epoch(train_dset, max_iters)
    history = train_loop(lambda x, y: training_step(model_fn, x, y, params, learning_rate),
                         lambda: check_accuracy(val_dset, model_fn, params),
                         lambda: train_dset.take(per_epoch), per_epoch, 1, print_every)
    return params, history


# --------------------------------------------------------------------------- Part III: Keras Model API

class TwoLayerFC(keras.Model):
    """flatten - dense(ReLU) - dense, Kaiming-initialized. (N, d1, ..., dM) -> scores (N, num_classes)."""

    def __init__(self, hidden_size: int, num_classes: int):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.fc1 = keras.layers.Dense(hidden_size, activation="relu", kernel_initializer=kaiming())
        self.fc2 = keras.layers.Dense(num_classes, kernel_initializer=kaiming())

    def call(self, x, training=False):
        return self.fc2(self.fc1(self.flatten(x)))


class ThreeLayerConvNet(keras.Model):
    """conv5x5(channel_1, pad 2) - ReLU - conv3x3(channel_2, pad 1) - ReLU - dense.

    Kaiming-initialized kernels, zero biases. (N, H, W, 3) -> scores (N, num_classes).
    """

    def __init__(self, channel_1: int, channel_2: int, num_classes: int):
        super().__init__()
        #######################################################################
        # TODO: Create the layers of the ConvNet: self.conv1, a 5x5 Conv2D    #
        # with channel_1 filters, and self.conv2, a 3x3 Conv2D with channel_2 #
        # filters, both with "same" padding and ReLU activation;              #
        # self.flatten, a Flatten layer; self.fc, a Dense layer with          #
        # num_classes outputs. Initialize every kernel with kaiming() (the    #
        # biases start at zero by default).                                   #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        # "same" padding of a 5x5 (3x3) stride-1 convolution is exactly 2 (1) zeros on each side
        self.conv1 = keras.layers.Conv2D(channel_1, 5, padding="same", activation="relu",
                                         kernel_initializer=kaiming())
        self.conv2 = keras.layers.Conv2D(channel_2, 3, padding="same", activation="relu",
                                         kernel_initializer=kaiming())
        self.flatten = keras.layers.Flatten()
        self.fc = keras.layers.Dense(num_classes, kernel_initializer=kaiming())
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def call(self, x, training=False):
        scores = None
        #######################################################################
        # TODO: Implement the forward pass with the layers created in         #
        # __init__: conv1, conv2, flatten, fc. Store the (N, num_classes)     #
        # scores in scores.                                                   #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        scores = self.fc(self.flatten(self.conv2(self.conv1(x))))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return task_result(scores, "ThreeLayerConvNet", NOTEBOOK)


def train_part34(model_init_fn: Callable[[], keras.Model], optimizer_init_fn: Callable,
                 train_dset: tf.data.Dataset, val_dset: tf.data.Dataset, num_epochs: int = 1,
                 print_every: int = 100, max_iters: int | None = None) -> tuple[keras.Model, dict]:
    """Train a Keras model with a Keras optimizer in an explicit GradientTape loop.

    Inputs:
    - model_init_fn: model = model_init_fn()
    - optimizer_init_fn: optimizer = optimizer_init_fn(), e.g. keras.optimizers.SGD(1e-2)
    - train_dset, val_dset: the data; validation accuracy every print_every iterations and at the end
    - num_epochs: passes over train_dset
    - max_iters: batches per epoch (quick runs); None for all
    Returns (model, history) with history "loss" (per iteration) and "val_acc" (list of
    (iteration, accuracy)).
    """
    model, optimizer = model_init_fn(), optimizer_init_fn()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function  # traced once into a graph: much less Python overhead per step
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    per_epoch = _per_epoch(train_dset, max_iters)
    history = train_loop(step, lambda: check_accuracy(val_dset, model), lambda: train_dset.take(per_epoch),
                         per_epoch, num_epochs, print_every)
    return model, history


# --------------------------------------------------------------------------- Part IV: Sequential and functional

def two_layer_fc_sequential(input_shape: Sequence[int], hidden_size: int, num_classes: int
                            ) -> keras.Sequential:
    """TwoLayerFC as a keras.Sequential: Flatten - Dense(ReLU) - Dense, Kaiming init.

    Input (N, *input_shape); output scores (N, num_classes).
    """
    return keras.Sequential([
        keras.Input(shape=tuple(input_shape)), keras.layers.Flatten(),
        keras.layers.Dense(hidden_size, activation="relu", kernel_initializer=kaiming()),
        keras.layers.Dense(num_classes, kernel_initializer=kaiming())])


def three_layer_convnet_sequential(input_shape: Sequence[int], channel_1: int, channel_2: int,
                                   num_classes: int) -> keras.Sequential:
    """ThreeLayerConvNet as a keras.Sequential, Kaiming init.

    Layers: Conv2D(5x5, same) ReLU - Conv2D(3x3, same) ReLU - Flatten - Dense.
    Input (N, H, W, 3); output scores (N, num_classes).
    """
    model = None
    ###########################################################################
    # TODO: Build the ConvNet as a keras.Sequential: a keras.Input of         #
    # input_shape, a Conv2D with channel_1 filters (5x5, "same", ReLU), a     #
    # Conv2D with channel_2 filters (3x3, "same", ReLU), Flatten, and a Dense #
    # layer with num_classes outputs, every kernel initialized with           #
    # kaiming(). Store it in model.                                           #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = keras.Sequential([
        keras.Input(shape=tuple(input_shape)),
        keras.layers.Conv2D(channel_1, 5, padding="same", activation="relu", kernel_initializer=kaiming()),
        keras.layers.Conv2D(channel_2, 3, padding="same", activation="relu", kernel_initializer=kaiming()),
        keras.layers.Flatten(),
        keras.layers.Dense(num_classes, kernel_initializer=kaiming())])
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(model, "three_layer_convnet_sequential", NOTEBOOK)


def two_layer_fc_functional(input_shape: Sequence[int], hidden_size: int, num_classes: int
                            ) -> keras.Model:
    """TwoLayerFC with the functional API: layers called on symbolic tensors, then
    keras.Model(inputs, outputs). Input (N, *input_shape); output (N, num_classes)."""
    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(hidden_size, activation="relu", kernel_initializer=kaiming())(x)
    scores = keras.layers.Dense(num_classes, kernel_initializer=kaiming())(x)
    return keras.Model(inputs=inputs, outputs=scores)


def three_layer_convnet_functional(input_shape: Sequence[int], channel_1: int, channel_2: int,
                                   num_classes: int) -> keras.Model:
    """ThreeLayerConvNet with the functional API. Input (N, H, W, 3); output (N, num_classes)."""
    model = None
    ###########################################################################
    # TODO: Build the same ConvNet with the functional API: call the layers   #
    # one after the other on a keras.Input of input_shape, then make a        #
    # keras.Model from that input and the scores. Store it in model.          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Conv2D(channel_1, 5, padding="same", activation="relu",
                            kernel_initializer=kaiming())(inputs)
    x = keras.layers.Conv2D(channel_2, 3, padding="same", activation="relu",
                            kernel_initializer=kaiming())(x)
    scores = keras.layers.Dense(num_classes, kernel_initializer=kaiming())(keras.layers.Flatten()(x))
    model = keras.Model(inputs=inputs, outputs=scores)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(model, "three_layer_convnet_functional", NOTEBOOK)


def count_params(model: keras.Model) -> int:
    """Number of trainable scalars of a (built) Keras model."""
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


# --------------------------------------------------------------------------- Part V: open-ended

def _conv_group(x, width: int, l2: float, activation: str, dtype):
    """conv3x3 - 2x2 max pool - batchnorm - act - conv3x3 - batchnorm - act (halves H and W)."""
    def conv(x):
        return keras.layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                                   kernel_regularizer=keras.regularizers.L2(l2), dtype=dtype)(x)

    def bn_act(x):
        x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, dtype=dtype)(x)
        return keras.layers.Activation(activation, dtype=dtype)(x)

    x = bn_act(keras.layers.MaxPooling2D(2, dtype=dtype)(conv(x)))
    return bn_act(conv(x))


def cifar_net(widths: Sequence[int] = (48, 192, 192), stem_width: int = 32, num_classes: int = 10,
              logit_scale: float = 0.125, activation: str = "relu", weight_decay: float = 5e-4,
              dtype_policy: str = "float32") -> keras.Model:
    """The open-ended model, the Keras twin of `cs231n.cifar10_pytorch.CifarNet` (functional API).

    stem conv3x3 (stem_width) - BN - act, three conv groups (widths) taking 32x32 to 4x4,
    global max pool, dense to num_classes (no bias), times logit_scale (see CifarNet for why).

    Inputs:
    - widths, stem_width, num_classes, logit_scale: the architecture
    - activation: "relu" by default; CifarNet's "gelu" trains more slowly in Keras on a CPU
      (the TensorFlow notebook measures both)
    - weight_decay: PyTorch-style (coupled) weight decay on the conv/dense kernels, added to the
      loss as (weight_decay / 2) * sum(w ** 2), whose gradient is weight_decay * w
    - dtype_policy: "float32", or "mixed_bfloat16" to compute in bfloat16 with float32 weights;
      the scores are always float32
    Returns an uncompiled keras.Model: (N, 32, 32, 3) -> (N, num_classes).
    """
    if len(widths) != 3 or min(widths) < 1 or stem_width < 1:
        raise ValueError(f"cifar_net: widths must be 3 positive ints and stem_width positive, "
                         f"got widths={widths}, stem_width={stem_width}")
    model = None
    ###########################################################################
    # TODO: Build the open-ended model with the functional API, on            #
    # (32, 32, 3) inputs: the stem (a 3x3 Conv2D with stem_width filters,     #
    # "same" padding and no bias, BatchNormalization, the activation), one    #
    # _conv_group per entry of widths, global max pooling, a Dense layer with #
    # num_classes outputs and no bias, and a Rescaling by logit_scale         #
    # computed in float32. Every kernel gets an L2 regularizer of             #
    # weight_decay / 2 (whose gradient is weight_decay * w), and every other  #
    # layer the dtype policy dtype_policy. Store the keras.Model in model.    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    l2 = weight_decay / 2  # the gradient of (l2) * w ** 2 is weight_decay * w
    inputs = keras.Input(shape=(32, 32, 3))
    x = keras.layers.Conv2D(stem_width, 3, padding="same", use_bias=False, kernel_initializer="he_normal",
                            kernel_regularizer=keras.regularizers.L2(l2), dtype=dtype_policy)(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, dtype=dtype_policy)(x)
    x = keras.layers.Activation(activation, dtype=dtype_policy)(x)
    for width in widths:
        x = _conv_group(x, width, l2, activation, dtype_policy)
    x = keras.layers.GlobalMaxPooling2D(dtype=dtype_policy)(x)
    x = keras.layers.Dense(num_classes, use_bias=False, kernel_regularizer=keras.regularizers.L2(l2),
                           dtype=dtype_policy)(x)
    scores = keras.layers.Rescaling(logit_scale, dtype="float32")(x)  # float32 scores for the loss
    model = keras.Model(inputs=inputs, outputs=scores)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(model, "cifar_net", NOTEBOOK)


def augment_batch(x, seed, pad: int = 2) -> tf.Tensor:
    """Random translation and horizontal flip of a batch of images (stateless, so reproducible).

    Each image is shifted by an independent random offset in [-pad, pad] along each axis (the
    border filled by reflection) and mirrored left-right with probability 1/2.

    Inputs:
    - x: (N, H, W, C) images
    - seed: a shape (2,) int tensor; the same seed gives the same augmentation
    - pad: the largest shift in pixels (0: flips only)
    Returns a tensor like x.
    """
    out = None
    ###########################################################################
    # TODO: Augment the batch with stateless random numbers derived from seed #
    # (the same seed must give the same images). Shift each image by its own  #
    # random offset in [-pad, pad] along each axis, the border filled by      #
    # reflection (tf.pad with mode "REFLECT", then gather each image's H x W  #
    # crop), and mirror each image left-right with probability 1/2. Store the #
    # result, shaped like x, in out.                                          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    shape = tf.shape(x)
    N, H, W = shape[0], shape[1], shape[2]
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), num=2)
    if pad > 0:
        padded = tf.pad(x, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")
        offsets = tf.random.stateless_uniform((2, N, 1), seeds[0], maxval=2 * pad + 1, dtype=tf.int32)
        rows = offsets[0] + tf.range(H)[None, :]  # (N, H): the rows each crop keeps
        cols = offsets[1] + tf.range(W)[None, :]
        x = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), cols, axis=2, batch_dims=1)
    flip = tf.random.stateless_uniform((N, 1, 1, 1), seeds[1]) < 0.5
    out = tf.where(flip, tf.reverse(x, axis=[2]), x)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(out, "augment_batch", NOTEBOOK)


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """`one_cycle_lr` as a Keras schedule: linear warm-up to peak_lr, then linear decay to 0."""

    def __init__(self, peak_lr: float, total_steps: int, warmup_frac: float = 0.2):
        self.peak_lr, self.total_steps, self.warmup_frac = peak_lr, total_steps, warmup_frac
        self.warmup = max(1, round(warmup_frac * total_steps))

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        up = self.peak_lr * (step + 1) / self.warmup
        down = self.peak_lr * tf.maximum(0.0, (self.total_steps - step) / (self.total_steps - self.warmup))
        return tf.where(step < self.warmup, up, down)

    def get_config(self):
        return {"peak_lr": self.peak_lr, "total_steps": self.total_steps, "warmup_frac": self.warmup_frac}


def predict_scores(model: keras.Model, X, batch_size: int = 500, tta: bool = False) -> np.ndarray:
    """Class scores (N, K) float32 of a Keras model on images X (N, H, W, 3) in inference mode;
    with tta, the average of the scores of each image and its mirror image."""
    scores = model.predict(X, batch_size=batch_size, verbose=0).astype(np.float32)
    if tta:
        scores = (scores + model.predict(X[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return scores


def accuracy(model: keras.Model, X, y, tta: bool = False) -> float:
    """Fraction of the images X (N, H, W, 3) whose predicted class equals y (N,); see predict_scores."""
    return float(np.mean(predict_scores(model, X, tta=tta).argmax(axis=1) == np.asarray(y)))


class _ValidationAccuracy(keras.callbacks.Callback):
    """After every epoch: records the flip-TTA validation accuracy in history["val_acc"] and
    prints one line (mean training loss, that accuracy, seconds since training began)."""

    def __init__(self, X_val, y_val, history: dict, epochs: int):
        super().__init__()
        self.X_val, self.y_val, self.history, self.epochs = X_val, y_val, history, epochs
        self.start = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        acc = accuracy(self.model, self.X_val, self.y_val, tta=True)
        self.history["val_acc"].append(acc)
        print(f"epoch {epoch + 1}/{self.epochs}: loss {logs['loss']:.3f}, val acc (flip TTA) "
              f"{acc:.3f}, {time.perf_counter() - self.start:.0f} s")


def open_ended_dataset(data: dict, batch_size: int, per_epoch: int, epochs: int, pad: int = 2,
                       seed: int = 0, num_classes: int = 10) -> tf.data.Dataset:
    """The training pipeline of the open-ended model, all epochs in one tf.data.Dataset.

    Shuffles the training split every epoch (seeded), cuts it into full batches, keeps
    per_epoch of them per epoch, and augments batch i with `augment_batch` seeded by
    (seed, i), so every run sees the same augmentations; labels become one-hot (for label
    smoothing).
    Yields epochs * per_epoch batches: x (B, 32, 32, 3) float32 and y (B, num_classes) float32.
    """
    dataset = None
    ###########################################################################
    # TODO: Build the training pipeline, a tf.data.Dataset over               #
    # data["X_train"] and data["y_train"]: shuffle the whole split every      #
    # epoch (seeded by seed), cut it into full batches of batch_size, keep    #
    # per_epoch batches of each epoch and repeat for epochs epochs; number    #
    # the batches, augment batch i with augment_batch seeded by (seed, i) and #
    # pad, and make the labels one-hot (num_classes). Store it in dataset.    #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    def augment(i, batch):
        x, y = batch
        x = augment_batch(x, tf.stack([tf.cast(seed, tf.int64), i]), pad)
        return x, tf.one_hot(y, num_classes)

    dataset = (tf.data.Dataset.from_tensor_slices((data["X_train"], data["y_train"]))
               .shuffle(len(data["X_train"]), seed=seed, reshuffle_each_iteration=True)
               .batch(batch_size, drop_remainder=True).take(per_epoch)
               .repeat(epochs).enumerate().map(augment, num_parallel_calls=1).prefetch(2))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(dataset, "open_ended_dataset", NOTEBOOK)


def compile_open_ended(model: keras.Model, total_steps: int, learning_rate: float = 0.4,
                       momentum: float = 0.9, label_smoothing: float = 0.2,
                       warmup_frac: float = 0.2) -> keras.optimizers.Optimizer:
    """Compile the open-ended model for model.fit: SGD with Nesterov momentum following the
    `OneCycle` schedule (peak learning_rate) over total_steps, and cross-entropy with label
    smoothing on the logits (the model's L2 terms are added by Keras).

    Returns the optimizer.
    """
    optimizer = None
    ###########################################################################
    # TODO: Create a keras.optimizers.SGD with Nesterov momentum whose        #
    # learning rate follows OneCycle(learning_rate, total_steps,              #
    # warmup_frac), and compile the model with it and a categorical           #
    # cross-entropy on the logits with label_smoothing. Store the optimizer   #
    # in optimizer.                                                           #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    optimizer = keras.optimizers.SGD(OneCycle(learning_rate, total_steps, warmup_frac),
                                     momentum=momentum, nesterov=True)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=label_smoothing))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(optimizer, "compile_open_ended", NOTEBOOK)


def train_open_ended(model: keras.Model, data: dict, epochs: int = 10, batch_size: int = 128,
                     learning_rate: float = 0.4, momentum: float = 0.9, label_smoothing: float = 0.2,
                     warmup_frac: float = 0.2, pad: int = 2, max_iters: int | None = None,
                     seed: int = 0, verbose: int = 0) -> dict:
    """Train the open-ended model with model.fit on the training split (the PyTorch recipe).

    `open_ended_dataset` shuffles each epoch, batches, and augments; `compile_open_ended` sets
    up the loss (cross-entropy with label smoothing, plus the model's L2 terms) and SGD with
    Nesterov momentum on the `OneCycle` schedule per step. Validation accuracy (flip TTA) is
    printed after every epoch; X_test is never touched.

    Inputs:
    - model: e.g. cifar_net(); compiled here
    - data: dict from load_cifar10
    - epochs, batch_size, learning_rate (peak), momentum, label_smoothing, warmup_frac, pad
    - max_iters: batches per epoch (quick runs); None for all full batches
    - verbose: Keras' own progress output (0: none, only our line per epoch; 2: a line per epoch)
    Returns history: "loss" per epoch, "val_acc" per epoch, "seconds" (training wall time),
    "images_per_second".
    """
    n = len(data["X_train"])
    per_epoch = n // batch_size if max_iters is None else min(max_iters, n // batch_size)
    if per_epoch == 0:
        raise ValueError(f"train_open_ended: {n} training images is less than one batch of "
                         f"{batch_size}; lower batch_size")
    dataset = open_ended_dataset(data, batch_size, per_epoch, epochs, pad, seed,
                                 num_classes=int(model.output_shape[-1]))
    compile_open_ended(model, epochs * per_epoch, learning_rate, momentum, label_smoothing,
                       warmup_frac)
    history = {"val_acc": []}
    start = time.perf_counter()
    fit = model.fit(dataset, epochs=epochs, steps_per_epoch=per_epoch, verbose=verbose,
                    shuffle=False, callbacks=[_ValidationAccuracy(data["X_val"], data["y_val"],
                                                                  history, epochs)])
    history["seconds"] = time.perf_counter() - start
    history["loss"] = fit.history["loss"]
    history["images_per_second"] = epochs * per_epoch * batch_size / history["seconds"]
    return history


def training_throughput(model: keras.Model, batch_size: int = 256, steps: int = 3) -> float:
    """Training speed of a Keras model on random (batch_size, 32, 32, 3) data, in images per second.

    Times `steps` SGD steps of a compiled (tf.function) train step after one untimed step, which
    also traces the graph; returns batch_size / (median step time). The model's weights change.
    """
    optimizer = keras.optimizers.SGD(1e-3, momentum=0.9, nesterov=True)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    x = tf.random.normal((batch_size, 32, 32, 3))
    y = tf.random.uniform((batch_size,), maxval=int(model.output_shape[-1]), dtype=tf.int32)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables),
                                      model.trainable_variables, strict=True))
        return loss

    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        float(step())  # float() waits for the result
        times.append(time.perf_counter() - start)
    return batch_size / float(np.median(times[1:]))
