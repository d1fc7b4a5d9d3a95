"""SqueezeNet 1.1 in TensorFlow 2 / Keras 3: the network of `squeezenet_pytorch`, channels last.

The same layers with the same indices (`features` 0..12, then the classifier), so a layer index
means the same layer in both frameworks:

    features   0 conv 3->64 (3x3, stride 2)   1 ReLU   2 max pool (3x3, stride 2, ceil mode)
               3, 4 Fire   5 max pool   6, 7 Fire   8 max pool   9, 10, 11, 12 Fire
    classifier Dropout(0.5), conv 512->1000 (1x1), ReLU, global average pool

Images are (N, H, W, 3) float32, RGB in [0, 1] normalized by the ImageNet mean/std
(`cs231n.classifiers.squeezenet_weights.preprocess_batch`). The pretrained weights are stored in
PyTorch's layout; kernels are converted (F, C, HH, WW) -> (HH, WW, C, F) on loading.
PyTorch's ``MaxPool2d(3, 2, ceil_mode=True)`` has no Keras twin ('same' padding gives one more
output row for odd sizes): `MaxPoolCeil` pads the bottom/right edge with -inf as ceil mode does.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from cs231n._tensorflow import keras, tf  # TensorFlow without its start-up lines
from cs231n.classifiers.squeezenet_weights import (
    FEATURE_LAYERS,
    NUM_CLASSES,
    load_squeezenet_weights,
)


class Fire(keras.layers.Layer):
    """squeeze (1x1) + ReLU, then [expand1x1 + ReLU, expand3x3 + ReLU] concatenated.

    (N, H, W, C) -> (N, H, W, expand1x1_planes + expand3x3_planes)
    """

    def __init__(self, squeeze_planes: int, expand1x1_planes: int, expand3x3_planes: int, **kwargs):
        super().__init__(**kwargs)
        self.squeeze = keras.layers.Conv2D(squeeze_planes, 1, activation="relu", name="squeeze")
        self.expand1x1 = keras.layers.Conv2D(expand1x1_planes, 1, activation="relu", name="expand1x1")
        self.expand3x3 = keras.layers.Conv2D(expand3x3_planes, 3, padding="same", activation="relu",
                                             name="expand3x3")

    def call(self, x):
        x = self.squeeze(x)
        return tf.concat([self.expand1x1(x), self.expand3x3(x)], axis=-1)


class MaxPoolCeil(keras.layers.Layer):
    """3x3 max pool, stride 2, output size ceil((H - 3) / 2) + 1 (PyTorch's ceil_mode=True)."""

    def call(self, x):
        shape = tf.shape(x)
        pad_h, pad_w = (shape[1] - 3) % 2, (shape[2] - 3) % 2
        x = tf.pad(x, [[0, 0], [0, pad_h], [0, pad_w], [0, 0]], constant_values=-np.inf)
        return tf.nn.max_pool2d(x, ksize=3, strides=2, padding="VALID")


def _feature_layer(i: int, spec: tuple) -> keras.layers.Layer:
    kind, name = spec[0], f"features_{i}"
    if kind == "conv":
        return keras.layers.Conv2D(spec[2], 3, strides=2, padding="valid", name=name)
    if kind == "relu":
        return keras.layers.ReLU(name=name)
    if kind == "pool":
        return MaxPoolCeil(name=name)
    return Fire(*spec[2:], name=name)


class SqueezeNet(keras.Model):
    """SqueezeNet 1.1: (N, H, W, 3) normalized images -> (N, 1000) class scores (logits).

    `features` (13 layers, torchvision's indices) and `classifier` are keras.Sequential stacks.
    """

    def __init__(self, num_classes: int = NUM_CLASSES, **kwargs):
        super().__init__(**kwargs)
        self.features = keras.Sequential(
            [_feature_layer(i, spec) for i, spec in enumerate(FEATURE_LAYERS)], name="features")
        self.classifier = keras.Sequential([
            keras.layers.Dropout(0.5, name="classifier_0"),
            keras.layers.Conv2D(num_classes, 1, activation="relu", name="classifier_1"),
            keras.layers.GlobalAveragePooling2D(name="classifier_3"),
        ], name="classifier")

    def call(self, x, training: bool = False):
        if len(x.shape) != 4 or x.shape[-1] != 3:
            raise ValueError(f"SqueezeNet expects (N, H, W, 3) images, got shape {tuple(x.shape)}")
        return self.classifier(self.features(x, training=training), training=training)


def _conv_weights(weights: dict[str, np.ndarray], key: str) -> list[np.ndarray]:
    """[kernel (HH, WW, C, F), bias (F,)] from PyTorch's (F, C, HH, WW) and (F,)."""
    return [weights[f"{key}.weight"].transpose(2, 3, 1, 0), weights[f"{key}.bias"]]


def load_pretrained_squeezenet(path: str | Path | None = None) -> SqueezeNet:
    """SqueezeNet 1.1 with the ImageNet weights, frozen (``trainable = False``).

    Inputs:
    - path: the weight .npz; None looks in $CS231N_DATA, datasets/, then datasets/mini/.
    Missing or corrupt weights raise a clear error naming the file and the fix.
    """
    weights = load_squeezenet_weights(path)
    model = SqueezeNet()
    model(np.zeros((1, 32, 32, 3), np.float32))  # build the layers so they have weights to set
    for i, layer in enumerate(model.features.layers):
        if isinstance(layer, Fire):
            for sub in ("squeeze", "expand1x1", "expand3x3"):
                getattr(layer, sub).set_weights(_conv_weights(weights, f"features.{i}.{sub}"))
        elif isinstance(layer, keras.layers.Conv2D):
            layer.set_weights(_conv_weights(weights, f"features.{i}"))
    model.classifier.layers[1].set_weights(_conv_weights(weights, "classifier.1"))
    model.trainable = False
    return model


def extract_features(x, cnn) -> list[tf.Tensor]:
    """The output of every layer of the feature extractor, in order (the course's signature).

    Inputs:
    - x: (N, H, W, 3) normalized images (array or tensor)
    - cnn: a SqueezeNet, or its `features` stack
    Returns a list of 13 tensors; features[i] (N, H_i, W_i, C_i) is the output of features.i
    (the same layer as features[i] of `squeezenet_pytorch.extract_features`, channels last).
    """
    layers = cnn.features.layers if isinstance(cnn, SqueezeNet) else list(getattr(cnn, "layers", cnn))
    x = tf.convert_to_tensor(x, dtype=tf.float32)
    feats = []
    for layer in layers:
        x = layer(x)
        feats.append(x)
    return feats


def count_parameters(model: keras.Model) -> int:
    """Total number of scalars in the model's weights (SqueezeNet 1.1: 1,235,496)."""
    return int(sum(np.prod(w.shape) for w in model.weights))
