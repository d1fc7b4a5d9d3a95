"""Style transfer with TensorFlow 2 / Keras 3 (assignment 3; Gatys, Ecker and Bethge, 2015): the
twin of `style_transfer_pytorch`, channels last.

Feature maps are (1, H, W, C) tensors from `extract_features`; images are (1, H, W, 3) normalized
arrays or tensors. The same three losses (content, style through Gram matrices, total
variation) and the same optimisation, with a ``tf.GradientTape`` on the image variable.
As in the course's TensorFlow notebook, `gram_matrix` takes the features of ONE image and
returns a (C, C) matrix.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from cs231n import style_transfer as common
from cs231n._tensorflow import keras, tf  # TensorFlow without its start-up lines
from cs231n.classifiers.squeezenet_tensorflow import (
    SqueezeNet,
    extract_features,
    load_pretrained_squeezenet,
)
from cs231n.gradient_check import rel_error  # noqa: F401  (the course's notebook imports it from here)
from cs231n.image_utils import deprocess_image, load_image, preprocess_image  # noqa: F401  (and these)
from cs231n.progress import progress


def content_loss(content_weight: float, content_current, content_original) -> tf.Tensor:
    """Content loss: w_c * sum over all positions and channels of (F - P)^2.

    Inputs:
    - content_weight: scalar w_c
    - content_current: features of the current image, (1, H_l, W_l, C_l)
    - content_original: features of the content image, (1, H_l, W_l, C_l)
    Returns a scalar tensor.
    """
    common.check_same_shape("content_loss", content_current.shape, content_original.shape)
    loss = None
    # TODO: Compute the content loss: content_weight times the sum of the squared
    # differences between the current and the original features. Store it in loss.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = content_weight * tf.reduce_sum((content_current - content_original) ** 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def gram_matrix(features, normalize: bool = True) -> tf.Tensor:
    """The Gram matrix G[c, c'] = sum over positions of F[:, :, c] * F[:, :, c'] of one image.

    Inputs:
    - features: (1, H, W, C) feature maps of one image
    - normalize: if True, divide by the number of neurons H * W * C
    Returns gram: (C, C).
    """
    if len(features.shape) != 4 or features.shape[0] != 1:
        raise ValueError(f"gram_matrix: expected the features of one image (1, H, W, C), got "
                         f"shape {tuple(features.shape)}")
    gram = None
    # TODO: Reshape the features to (H * W, C) and multiply their transpose by them to
    # get the (C, C) Gram matrix; divide by H * W * C when normalize is True. Store the
    # (C, C) result in gram.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    _, H, W, C = features.shape
    F = tf.reshape(features, (H * W, C))
    gram = tf.matmul(F, F, transpose_a=True)
    if normalize:
        gram = gram / (H * W * C)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return gram


def style_loss(feats: Sequence, style_layers: Sequence[int], style_targets: Sequence,
               style_weights: Sequence[float]) -> tf.Tensor:
    """Style loss: sum over the style layers l of w_l * sum (G_l - A_l)^2.

    Inputs:
    - feats: the features of the current image at every layer (from `extract_features`)
    - style_layers: indices into feats of the layers in the style loss
    - style_targets: style_targets[i] is the Gram matrix (C, C) of the style image at layer
      style_layers[i]
    - style_weights: style_weights[i] is the scalar weight of layer style_layers[i]
    Returns a scalar tensor.
    """
    common.check_style_layers(style_layers, style_weights, style_targets, num_feats=len(feats))
    loss = None
    # TODO: For each layer style_layers[i], compute the Gram matrix of feats[layer]
    # and add style_weights[i] times the sum of its squared differences from
    # style_targets[i]. Store the total in loss.
    # HINT: you can do this with one for loop over the style layers, and should not be very
    # much code (~5 lines). You will need to use your gram_matrix function.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = tf.zeros((), dtype=tf.float32)
    for i, target, weight in zip(style_layers, style_targets, style_weights, strict=True):
        loss = loss + weight * tf.reduce_sum((gram_matrix(feats[i]) - target) ** 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def tv_loss(img, tv_weight: float) -> tf.Tensor:
    """Total variation loss: w_t * (sum of squared differences of vertical neighbours + sum of
    squared differences of horizontal neighbours), over all channels.

    Inputs:
    - img: (1, H, W, 3) image
    - tv_weight: scalar w_t
    Returns a scalar tensor.
    """
    img = tf.convert_to_tensor(img)
    common.check_tv_image(img.shape, img.dtype.is_floating, img.dtype.name, "NHWC")
    loss = None
    # TODO: Compute the total variation loss: tv_weight times the sum of squared
    # differences of vertically neighbouring pixels plus that of horizontally
    # neighbouring pixels, over all channels. Store it in loss.
    # Your implementation should be vectorized and not require any loops!
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = tv_weight * (tf.reduce_sum((img[:, 1:, :, :] - img[:, :-1, :, :]) ** 2)
                        + tf.reduce_sum((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


# --------------------------------------------------------------------------- the optimisation

def _feature_stack(cnn, deepest: int) -> list:
    """The feature layers 0..deepest of cnn (a SqueezeNet, its `features`, or None: pretrained)."""
    cnn = load_pretrained_squeezenet() if cnn is None else cnn
    layers = cnn.features.layers if isinstance(cnn, SqueezeNet) else list(cnn.layers)
    return layers[:deepest + 1]


def features_from_img(imgpath, imgsize: int, cnn=None) -> tuple[list[tf.Tensor], np.ndarray]:
    """(features at every layer, normalized image (1, H, W, 3)) of an image file or course name
    resized to `imgsize` (the course's helper; cnn None loads the pretrained SqueezeNet)."""
    img = preprocess_image(common.load_style_image(imgpath, imgsize))[None]
    return extract_features(img, _feature_stack(cnn, common.NUM_LAYERS - 1)), img


def style_transfer(content_image, style_image, image_size: int, style_size: int,
                   content_layer: int, content_weight: float, style_layers: Sequence[int],
                   style_weights: Sequence[float], tv_weight: float, init_random: bool = False,
                   *, cnn=None, num_steps: int = common.NUM_STEPS,
                   decay_lr_at: int | None = None, clamp_until: int | None = None,
                   seed: int | None = 0, snapshot_every: int = 100,
                   desc: str | None = None) -> common.TransferResult:
    """Run the course's style transfer: Adam on the pixels, lr 3.0, a fresh Adam at lr 0.1 from
    step 180, 200 steps, pixels clamped to [-1.5, 1.5] before each of the first 190.

    The arguments and the result are those of `style_transfer_pytorch.style_transfer` (cnn: a
    Keras SqueezeNet). Adam's epsilon is PyTorch's 1e-8 (Keras' default is 1e-7), so the two
    frameworks take the same steps. The loss and its gradient run as one compiled
    ``tf.function``: eager Keras calls cost more than the arithmetic at these sizes.
    """
    content_layer = common.check_layer("content_layer", content_layer)
    common.check_style_layers(style_layers, style_weights)
    num_steps, decay_lr_at, clamp_until = common.schedule(num_steps, decay_lr_at, clamp_until)
    layers = _feature_stack(cnn, max([content_layer, *style_layers]))

    content_img = preprocess_image(common.load_style_image(content_image, image_size))[None]
    style_img = preprocess_image(common.load_style_image(style_image, style_size))[None]
    content_target = extract_features(content_img, layers)[content_layer]
    feats = extract_features(style_img, layers)
    style_targets = [gram_matrix(feats[i]) for i in style_layers]

    @tf.function
    def losses_and_gradient(img):
        with tf.GradientTape() as tape:
            tape.watch(img)
            feats = extract_features(img, layers)
            parts = (content_loss(content_weight, feats[content_layer], content_target),
                     style_loss(feats, style_layers, style_targets, style_weights),
                     tv_loss(img, tv_weight))
            loss = tf.add_n(parts)
        return (loss, *parts), tape.gradient(loss, img)

    start = common.random_start(*content_img.shape[1:3], seed) if init_random else content_img
    img = tf.Variable(start)
    optimizer = keras.optimizers.Adam(learning_rate=common.INITIAL_LR, epsilon=1e-8)
    losses: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": []}
    snapshots = {}
    began = time.perf_counter()
    for t in progress(range(num_steps), desc=desc or "style transfer"):
        if t < clamp_until:
            img.assign(tf.clip_by_value(img, -common.CLAMP, common.CLAMP))
        if t % snapshot_every == 0:
            snapshots[t] = deprocess(img)
        values, grad = losses_and_gradient(tf.convert_to_tensor(img))
        for name, value in zip(losses, values, strict=True):
            losses[name].append(float(value))
        if t == decay_lr_at:
            optimizer = keras.optimizers.Adam(learning_rate=common.DECAYED_LR, epsilon=1e-8)
        optimizer.apply_gradients([(grad, img)])
    seconds = time.perf_counter() - began
    return common.TransferResult(deprocess(img), losses, snapshots, seconds)


def deprocess(img) -> np.ndarray:
    """A normalized image (1, H, W, 3) -> uint8 pixels (H, W, 3), stretched to the full range
    (the course's display of its generated images)."""
    return deprocess_image(np.asarray(img)[0], rescale=True)
