"""Network visualization with TensorFlow 2 / Keras 3 (assignment 3): saliency maps, fooling
images and class visualizations of a pretrained SqueezeNet, with gradients from a
``tf.GradientTape`` that watches the image instead of the weights.

The twin of `net_visualization_pytorch`, channels last: images are (N, H, W, 3) float32 arrays,
RGB normalized by the ImageNet mean and std (`cs231n.image_utils.preprocess_image` and
`deprocess_image`). The course's helpers `blur_image` and `jitter` keep their names.
"""
from __future__ import annotations

import numpy as np

from cs231n import image_utils
from cs231n import net_visualization as common
from cs231n._tensorflow import tf  # TensorFlow without its start-up lines
from cs231n.image_utils import (  # noqa: F401  (the course's notebook imports them from here)
    SQUEEZENET_MEAN,
    SQUEEZENET_STD,
    deprocess_image,
    preprocess_image,
)
from cs231n.progress import progress


def _as_batch(name: str, X, batch: int | None = None) -> tf.Tensor:
    X = tf.convert_to_tensor(X)
    common.check_images(name, X.shape, X.dtype.is_floating, X.dtype.name, "NHWC", batch)
    return tf.cast(X, tf.float32)


def compute_saliency_maps(X, y, model) -> np.ndarray:
    """The saliency map of each image for its label: max over channels of |d score_y / d pixel|.

    Inputs:
    - X: (N, H, W, 3) normalized images (array or tensor)
    - y: (N,) integer labels, one per image
    - model: a pretrained CNN, (N, H, W, 3) -> (N, C) scores
    Returns saliency: (N, H, W) float32 array, the largest absolute gradient over the channels.
    """
    X = _as_batch("compute_saliency_maps: X", X)
    y = common.check_labels("compute_saliency_maps: y", y, int(X.shape[0]))
    saliency = None
    # TODO: Implement this function. Record the forward pass on a tf.GradientTape that watches
    # X, take the scores of the correct classes (combined across the batch by summing), and
    # ask the tape for their gradient with respect to X.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    with tf.GradientTape() as tape:
        tape.watch(X)
        scores = model(X)
        correct = tf.gather(scores, y, axis=1, batch_dims=1)
        total = tf.reduce_sum(correct)
    grad = tape.gradient(total, X)
    saliency = tf.reduce_max(tf.abs(grad), axis=3).numpy()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return saliency


def make_fooling_image(X, target_y: int, model,
                       learning_rate: float = common.FOOLING_LEARNING_RATE,
                       max_iters: int = common.FOOLING_MAX_ITERS,
                       history: list | None = None) -> np.ndarray:
    """An image close to X that the model classifies as target_y: gradient ascent on the target
    score with normalized steps, X <- X + learning_rate * g / ||g||_2, g = d score_target / dX,
    stopping as soon as the model predicts target_y.

    Inputs:
    - X: (1, H, W, 3) normalized image
    - target_y: the class to fool the model into, in [0, 1000)
    - model: a pretrained CNN
    - learning_rate: the length (L2 norm) of each step
    - max_iters: the most gradient steps to take (the image after the last is returned, fooled
      or not: check the prediction)
    - history: a list, or None; if a list, the target score of every image the loop looks at is
      appended, so after the call len(history) - 1 steps were taken and history[-1] is the
      target score of the returned image
    Returns X_fooling: (1, H, W, 3) float32 array.
    """
    X_fooling = _as_batch("make_fooling_image: X", X, batch=1)
    target_y = common.check_target("make_fooling_image", target_y)
    # TODO: Generate a fooling image X_fooling that the model will classify as the class
    # target_y. You should perform gradient ascent on the score of the target class, stopping
    # when the model is fooled. When computing an update step, first normalize the gradient:
    #   dX = learning_rate * g / ||g||_2
    # You should write a training loop (at most max_iters steps; append the target score to
    # history at every check when history is a list).
    # HINT: For most examples, you should be able to generate a fooling image in fewer than
    # 100 iterations of gradient ascent.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    for step in range(max_iters + 1):
        with tf.GradientTape() as tape:
            tape.watch(X_fooling)
            scores = model(X_fooling)
            target_score = scores[0, target_y]
        if history is not None:
            history.append(float(target_score))
        if int(tf.argmax(scores[0])) == target_y or step == max_iters:
            break
        g = tape.gradient(target_score, X_fooling)
        X_fooling = X_fooling + learning_rate * g / tf.norm(g)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return np.asarray(X_fooling)


def class_visualization_update_step(X, model, target_y: int, l2_reg: float,
                                    learning_rate: float) -> tf.Tensor:
    """One step of gradient ascent on s_y(I) - l2_reg * ||I||_2^2 (the target score with L2
    regularization), with the gradient normalized to length learning_rate.

    Inputs:
    - X: (1, H, W, 3) normalized image (array, tensor or variable)
    - model: a pretrained CNN
    - target_y: the class whose score to raise
    - l2_reg: strength of the L2 regularization, lambda
    - learning_rate: the length (L2 norm) of the step
    Returns the updated image, a new (1, H, W, 3) tensor.
    """
    X = _as_batch("class_visualization_update_step: X", X, batch=1)
    target_y = common.check_target("class_visualization_update_step", target_y)
    # TODO: Use the model to compute the gradient of the score for the class target_y with
    # respect to the pixels of the image, and make a gradient step on the image using the
    # learning rate. Don't forget the L2 regularization term!
    # Be very careful about the signs of elements in your code.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    with tf.GradientTape() as tape:
        tape.watch(X)
        objective = model(X)[0, target_y] - l2_reg * tf.reduce_sum(X * X)
    g = tape.gradient(objective, X)
    X = X + learning_rate * g / tf.norm(g)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return X


def create_class_visualization(target_y: int, model, l2_reg: float = 1e-3,
                               learning_rate: float = 25.0, num_iterations: int = 100,
                               blur_every: int = 10, max_jitter: int = 16, size: int = 224,
                               seed: int | None = 0, desc: str | None = None) -> np.ndarray:
    """Generate an image that maximizes the score of target_y (the course's driver).

    From random pixels (`net_visualization.random_start`, the same start as PyTorch's for one
    seed), each iteration shifts the image by a random jitter, takes
    `class_visualization_update_step`, shifts it back and clamps every pixel to [0, 1]; every
    `blur_every` iterations it blurs the image a little (sigma 0.5).
    Returns the final image (1, size, size, 3), normalized; `deprocess_image` shows it.
    """
    X = tf.constant(common.random_start(size, seed))
    low, high = image_utils.squeezenet_pixel_bounds()
    offsets = common.jitter_offsets(num_iterations, max_jitter, seed)
    for t in progress(range(num_iterations), desc=desc or f"class {target_y}"):
        ox, oy = (int(o) for o in offsets[t])
        X = jitter(X, ox, oy)
        X = class_visualization_update_step(X, model, target_y, l2_reg, learning_rate)
        X = tf.clip_by_value(jitter(X, -ox, -oy), low, high)
        if common.blur_now(t, blur_every):
            X = tf.constant(blur_image(X, sigma=common.BLUR_SIGMA))
    return X.numpy()


# --------------------------------------------------------------------------- the course's helpers

def blur_image(X, sigma: float = 1.0) -> np.ndarray:
    """Gaussian blur of a batch (N, H, W, 3) over H and W. Returns a new float32 array."""
    X = np.asarray(X, np.float32).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(image_utils.blur_image(X, sigma).transpose(0, 2, 3, 1))


def jitter(X, ox: int, oy: int) -> tf.Tensor:
    """Shift a batch (N, H, W, C) circularly by ox pixels right and oy pixels down (negative
    values shift back). Returns a new tensor."""
    return tf.roll(X, shift=[int(oy), int(ox)], axis=[1, 2])
