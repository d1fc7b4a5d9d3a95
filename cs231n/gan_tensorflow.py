"""Generative adversarial networks on MNIST in TensorFlow 2 / Keras 3 (GANs-TensorFlow.ipynb).

The twin of `cs231n.gan_pytorch`: the same networks (layer for layer, with the same
parameter counts), the same losses and the same training loop, in Keras. The 2018 course
used TensorFlow 1 graphs (`discriminator(x)` built ops on a placeholder, `gan_loss` returned
both losses, `get_solvers` both optimizers); here the networks are Keras models, and the 2018
names `gan_loss`, `lsgan_loss` and `get_solvers` are kept beside the per-loss functions.

Layouts: images are flattened (N, 784) at the models' borders, as in PyTorch; inside the
DCGAN models they are (N, H, W, C), TensorFlow's order (PyTorch's is (N, C, H, W)), so a
flattened feature map is ordered differently in the two frameworks. Batch normalization uses
PyTorch's settings (momentum 0.9 in Keras' convention = 0.1 in PyTorch's, epsilon 1e-5).
This module never imports PyTorch; the scores come from the numpy-only `cs231n.gan_scoring`.
Importing it also imports TensorFlow without its C++ start-up lines (`cs231n._tensorflow`).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from cs231n._tensorflow import keras, tf
from cs231n.gan_utils import (
    IMAGE_DIM,
    MNIST,
    NOISE_DIM,
    GanRun,
    deprocess_img,
    gan_training_loop,
    preprocess_img,
    show_images,  # noqa: F401  (re-exported: the course's helper)
)
from cs231n.gradient_check import rel_error  # noqa: F401  (re-exported, as the course's helper)

layers = keras.layers

BN_MOMENTUM, BN_EPSILON = 0.9, 1e-5  # PyTorch's BatchNorm defaults, in Keras' convention


# --------------------------------------------------------------------------- helpers

def count_params(model: keras.Model, trainable_only: bool = True) -> int:
    """Number of parameters: trainable ones, or (trainable_only=False) every weight the model
    holds, batch-norm moving means and variances included (what the 2018 notebook counted)."""
    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(np.prod(w.shape) for w in weights))


def leaky_relu(x, alpha: float = 0.01):
    """Compute the leaky ReLU activation function.

    Inputs:
    - x: TensorFlow Tensor with arbitrary shape
    - alpha: leak parameter for leaky ReLU

    Returns:
    TensorFlow Tensor with the same shape as x
    """
    out = None
    # TODO: implement leaky ReLU
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    out = tf.maximum(x, alpha * x)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return out


def sample_noise(batch_size: int, dim: int, seed: int | None = None) -> tf.Tensor:
    """Generate random uniform noise from -1 to 1.

    Inputs:
    - batch_size: integer giving the batch size of noise to generate
    - dim: integer giving the dimension of the noise to generate
    - seed: if given, stateless noise determined by it (the global random state is left alone)

    Returns:
    TensorFlow Tensor containing uniform noise in [-1, 1] with shape [batch_size, dim]
    """
    noise = None
    # TODO: sample and return noise
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    if seed is None:
        noise = tf.random.uniform([batch_size, dim], minval=-1, maxval=1)
    else:
        noise = tf.random.stateless_uniform([batch_size, dim], seed=[seed, 0], minval=-1, maxval=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return noise


# --------------------------------------------------------------------------- networks

def discriminator() -> keras.Sequential:
    """Compute discriminator score for a batch of input images.

    Architecture: fully connected 784 -> 256 - LeakyReLU(0.01) - fully connected 256 -> 256 -
    LeakyReLU(0.01) - fully connected 256 -> 1.
    The model maps images (N, 784) in [-1, 1] to logits (N, 1), the score for an image being
    real. 267,009 parameters.
    """
    model = None
    # TODO: implement architecture
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = keras.Sequential([
        keras.Input((IMAGE_DIM,)),
        layers.Dense(256), layers.LeakyReLU(negative_slope=0.01),
        layers.Dense(256), layers.LeakyReLU(negative_slope=0.01),
        layers.Dense(1),
    ], name="discriminator")
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


def generator(noise_dim: int = NOISE_DIM) -> keras.Sequential:
    """Generate images from a random noise vector.

    Architecture: fully connected noise_dim -> 1024 - ReLU - fully connected 1024 -> 1024 -
    ReLU - fully connected 1024 -> 784 - TanH.
    The model maps noise (N, noise_dim) to images (N, 784) in [-1, 1].
    1,858,320 parameters for noise_dim = 4.
    """
    model = None
    # TODO: implement architecture
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = keras.Sequential([
        keras.Input((noise_dim,)),
        layers.Dense(1024, activation="relu"),
        layers.Dense(1024, activation="relu"),
        layers.Dense(IMAGE_DIM, activation="tanh"),
    ], name="generator")
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


# --------------------------------------------------------------------------- losses

def bce_loss(input, target) -> tf.Tensor:
    """Numerically stable binary cross-entropy from logits, the mean over the minibatch.

    max(s, 0) - s z + log(1 + exp(-|s|)) for a logit s and a target z in {0, 1}, which equals
    -[z log sigmoid(s) + (1 - z) log(1 - sigmoid(s))] and never overflows exp
    (tf.nn.sigmoid_cross_entropy_with_logits computes the same).

    Inputs:
    - input: Tensor of shape (N,) or (N, 1) giving scores
    - target: Tensor of the same shape containing 0 and 1 giving targets
    """
    input = tf.convert_to_tensor(input)
    target = tf.cast(target, input.dtype)
    if input.shape != target.shape:
        raise ValueError(f"bce_loss: input {input.shape} and target {target.shape} must have the "
                         "same shape")
    loss = tf.maximum(input, 0) - input * target + tf.math.log1p(tf.exp(-tf.abs(input)))
    return tf.reduce_mean(loss)


def discriminator_loss(logits_real, logits_fake) -> tf.Tensor:
    """Compute the discriminator loss.

    l_D = -E_x[log D(x)] - E_z[log(1 - D(G(z)))], D = sigmoid of the logits; each expectation
    is the mean over its minibatch (averaged separately, then added).

    Inputs:
    - logits_real: Tensor, shape [batch_size, 1], output of discriminator
        Unnormalized score that the image is real for each real image
    - logits_fake: Tensor, shape[batch_size, 1], output of discriminator
        Unnormalized score that the image is real for each fake image

    Returns:
    - loss: Tensor containing (scalar) the loss for the discriminator.
    """
    loss = None
    # TODO: the discriminator loss from the logits with bce_loss: real digits have target 1,
    # fake ones target 0; average each part over its minibatch, then add the two.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = (bce_loss(logits_real, tf.ones_like(logits_real))
            + bce_loss(logits_fake, tf.zeros_like(logits_fake)))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def generator_loss(logits_fake) -> tf.Tensor:
    """Compute the generator loss l_G = -E_z[log D(G(z))] (the non-saturating loss).

    Inputs:
    - logits_fake: Tensor, shape[batch_size, 1], output of discriminator
        Unnormalized score that the image is real for each fake image

    Returns:
    - loss: Tensor containing the (scalar) loss for the generator.
    """
    loss = None
    # TODO: the generator loss from the logits with bce_loss: the fake digits' target is 1.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = bce_loss(logits_fake, tf.ones_like(logits_fake))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def get_optimizer(model: keras.Model | None = None) -> keras.optimizers.Optimizer:
    """An Adam optimizer with learning rate 1e-3, beta1 = 0.5, beta2 = 0.999.

    A Keras optimizer is not bound to a model (it gets the variables with the gradients);
    `model` is accepted so that calls read like PyTorch's `get_optimizer(D)`.
    """
    optimizer = None
    # TODO: create an AdamOptimizer
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    optimizer = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5, beta_2=0.999)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return optimizer


def ls_discriminator_loss(scores_real, scores_fake) -> tf.Tensor:
    """Compute the Least-Squares GAN loss for the discriminator.

    l_D = 1/2 E_x[(D(x) - 1)^2] + 1/2 E_z[D(G(z))^2], D(.) the raw scores (no sigmoid).

    Inputs:
    - scores_real: Tensor, shape [batch_size, 1], output of discriminator
        The score for each real image
    - scores_fake: Tensor, shape[batch_size, 1], output of discriminator
        The score for each fake image

    Returns:
    - loss: A Tensor containing the loss.
    """
    loss = None
    # TODO: the least-squares discriminator loss above, on the raw scores (no sigmoid).
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = (0.5 * tf.reduce_mean(tf.square(scores_real - 1))
            + 0.5 * tf.reduce_mean(tf.square(scores_fake)))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def ls_generator_loss(scores_fake) -> tf.Tensor:
    """Compute the Least-Squares GAN loss for the generator: l_G = 1/2 E_z[(D(G(z)) - 1)^2].

    Inputs:
    - scores_fake: Tensor, shape[batch_size, 1], output of discriminator
        The score for each fake image

    Returns:
    - loss: A Tensor containing the loss.
    """
    loss = None
    # TODO: the least-squares generator loss above, on the raw scores.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = 0.5 * tf.reduce_mean(tf.square(scores_fake - 1))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


# The 2018 TensorFlow notebook's names: one function for both losses, one for both optimizers.

def gan_loss(logits_real, logits_fake) -> tuple[tf.Tensor, tf.Tensor]:
    """(D_loss, G_loss) of the vanilla GAN (the 2018 notebook's interface)."""
    return discriminator_loss(logits_real, logits_fake), generator_loss(logits_fake)


def lsgan_loss(score_real, score_fake) -> tuple[tf.Tensor, tf.Tensor]:
    """(D_loss, G_loss) of the least-squares GAN (the 2018 notebook's interface)."""
    return ls_discriminator_loss(score_real, score_fake), ls_generator_loss(score_fake)


def get_solvers(learning_rate: float = 1e-3, beta1: float = 0.5):
    """Create solvers for GAN training: (D_solver, G_solver), two Adam optimizers."""
    return (keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1),
            keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta1))


# --------------------------------------------------------------------------- DCGAN

def _batch_norm() -> keras.layers.Layer:
    return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON)


def build_dc_classifier() -> keras.Sequential:
    """The DCGAN discriminator.

    Architecture: Reshape to (N, 28, 28, 1) - Conv2D 32 filters 5x5 stride 1 ('valid') -
    LeakyReLU(0.01) - MaxPool 2x2 stride 2 - Conv2D 64 filters 5x5 stride 1 - LeakyReLU(0.01) -
    MaxPool 2x2 stride 2 - Flatten - fully connected 4*4*64 -> 4*4*64 - LeakyReLU(0.01) -
    fully connected -> 1.
    The model maps images (N, 784) in [-1, 1] to logits (N, 1). 1,102,721 parameters.
    """
    model = None
    # TODO: implement architecture
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = keras.Sequential([
        keras.Input((IMAGE_DIM,)),
        layers.Reshape((28, 28, 1)),
        layers.Conv2D(32, 5, strides=1), layers.LeakyReLU(negative_slope=0.01),   # (N, 24, 24, 32)
        layers.MaxPooling2D(2, strides=2),                                       # (N, 12, 12, 32)
        layers.Conv2D(64, 5, strides=1), layers.LeakyReLU(negative_slope=0.01),   # (N, 8, 8, 64)
        layers.MaxPooling2D(2, strides=2),                                       # (N, 4, 4, 64)
        layers.Flatten(),
        layers.Dense(4 * 4 * 64), layers.LeakyReLU(negative_slope=0.01),
        layers.Dense(1),
    ], name="dc_classifier")
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


def build_dc_generator(noise_dim: int = NOISE_DIM) -> keras.Sequential:
    """The DCGAN generator.

    Architecture: fully connected noise_dim -> 1024 - ReLU - BatchNorm - fully connected
    1024 -> 7*7*128 - ReLU - BatchNorm - Reshape to (N, 7, 7, 128) - Conv2DTranspose 64 filters
    4x4 stride 2 'same' (-> 14x14) - ReLU - BatchNorm - Conv2DTranspose 1 filter 4x4 stride 2
    'same' (-> 28x28) - TanH - Flatten.
    The model maps noise (N, noise_dim) to images (N, 784) in [-1, 1]. 6,580,801 trainable
    parameters for noise_dim = 4, and 14,720 batch-norm moving statistics (6,595,521 weights).
    """
    model = None
    # TODO: implement architecture
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = keras.Sequential([
        keras.Input((noise_dim,)),
        layers.Dense(1024, activation="relu"), _batch_norm(),
        layers.Dense(7 * 7 * 128, activation="relu"), _batch_norm(),
        layers.Reshape((7, 7, 128)),
        layers.Conv2DTranspose(64, 4, strides=2, padding="same", activation="relu"),
        _batch_norm(),
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
        layers.Flatten(),
    ], name="dc_generator")
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return model


# --------------------------------------------------------------------------- training

def generate(G: keras.Model, num: int, noise_size: int = NOISE_DIM, seed: int = 0,
             batch_size: int = 500) -> np.ndarray:
    """num digits from G as (num, 784) float32 pixels in [0, 1] (deprocessed).

    G runs in inference mode (batch norm uses its moving statistics, so a digit does not
    depend on the others of its batch); the noise is stateless, seeded by `seed`.
    """
    z = sample_noise(num, noise_size, seed=seed)
    out = [deprocess_img(G(z[i:i + batch_size], training=False)).numpy().reshape(-1, IMAGE_DIM)
           for i in range(0, num, batch_size)]
    return np.concatenate(out) if out else np.zeros((0, IMAGE_DIM), np.float32)


def average_copy(G: keras.Model) -> keras.Model:
    """A copy of G with the same weights, to hold G's moving average (`make_train_step`)."""
    G_average = keras.models.clone_model(G)
    G_average.set_weights(G.get_weights())
    return G_average


def make_train_step(D: keras.Model, G: keras.Model, D_solver, G_solver,
                    discriminator_loss: Callable, generator_loss: Callable,
                    noise_size: int = NOISE_DIM, G_average: keras.Model | None = None,
                    ema_decay: float | None = None) -> Callable:
    """One GAN iteration as a tf.function: step(x) for real digits x (B, 784) in [0, 1]
    returns (D loss, G loss).

    One D step on B real digits (mapped to [-1, 1]) and B generated ones, then one G step on
    the same generated digits, scored by the updated D (G's forward pass is reused, as in
    `cs231n.gan_pytorch.run_a_gan`). With G_average (from `average_copy`) and ema_decay, each
    step then sets every weight of G_average, batch-norm moving statistics included, to
    d * average + (1 - d) * G's, d = min(ema_decay, (1 + t) / (10 + t)) at step t
    (`cs231n.gan_utils.ema_decay_at`).
    """
    steps_done = tf.Variable(0.0, trainable=False)

    @tf.function
    def step(x):
        real = preprocess_img(x)
        z = sample_noise(tf.shape(x)[0], noise_size)
        with tf.GradientTape() as g_tape:
            fake = G(z, training=True)
            with g_tape.stop_recording(), tf.GradientTape() as d_tape:
                d_loss = discriminator_loss(D(real, training=True),
                                            D(tf.stop_gradient(fake), training=True))
            with g_tape.stop_recording():
                D_solver.apply_gradients(zip(d_tape.gradient(d_loss, D.trainable_variables),
                                             D.trainable_variables, strict=True))
            g_loss = generator_loss(D(fake, training=True))
        G_solver.apply_gradients(zip(g_tape.gradient(g_loss, G.trainable_variables),
                                     G.trainable_variables, strict=True))
        if G_average is not None:
            decay = tf.minimum(float(ema_decay), (1 + steps_done) / (10 + steps_done))
            for avg, new in zip(G_average.weights, G.weights, strict=True):
                avg.assign(decay * avg.value + (1 - decay) * new.value)
        steps_done.assign_add(1.0)
        return d_loss, g_loss

    return step


def run_a_gan(D: keras.Model, G: keras.Model, D_solver, G_solver, discriminator_loss: Callable,
              generator_loss: Callable, mnist: MNIST | None = None, show_every: int = 250,
              batch_size: int = 128, noise_size: int = NOISE_DIM, num_epochs: int = 10,
              max_iters: int | None = None, score_fn: Callable[[np.ndarray], float] | None = None,
              score_every: int | None = None, num_score: int = 2000, show: bool = True,
              ema_decay: float | None = None) -> GanRun:
    """Train a GAN for a certain number of epochs.

    Inputs:
    - D: Discriminator model
    - G: Generator model
    - D_solver: an Optimizer for Discriminator
    - G_solver: an Optimizer for Generator
    - discriminator_loss, generator_loss: the loss functions
    - mnist: yields (x (B, 784) in [0, 1], labels); default MNIST(batch_size, shuffle=True)
    - show_every: Show samples after every show_every iterations (and after the last one).
    - batch_size: Batch size used for training (when mnist is None).
    - noise_size: Dimension of the noise to use as input to the generator.
    - num_epochs: Number of epochs over the training dataset to use for training.
    - max_iters: stop after this many iterations in all (quick runs); None: no limit
    - score_fn: if given, called with `num_score` generated digits (num_score, 784) in [0, 1]
      every score_every iterations (default show_every) and at the end; returns a float or a
      dict of floats (e.g. `cs231n.gan_scoring.MnistScorer.score`)
    - show: draw each sample grid as it is made (the course's behaviour); False only collects
    - ema_decay: if given, also keep an exponential moving average of G's weights (see
      `make_train_step`), returned as run.G_average; the samples shown and scored are then
      the average's. None: the course's plain G.
    Returns a GanRun: the grids shown, both losses per iteration, the scores, and the seconds
    spent in training steps (the first step includes tracing the tf.function).

    Grappler's "remapper" pass is switched off while the step is traced: on the DCGAN
    discriminator it fails on every trace ("remapper failed: ... LeakyReluGrad"), printing an
    error line and leaving the graph as it would be without it.
    """
    mnist = MNIST(batch_size, shuffle=True) if mnist is None else mnist
    total = num_epochs * len(mnist)
    total = total if max_iters is None else min(total, max_iters)
    G_average = None if ema_decay is None else average_copy(G)
    train_step = make_train_step(D, G, D_solver, G_solver, discriminator_loss, generator_loss,
                                 noise_size, G_average, ema_decay)
    shown = G if G_average is None else G_average

    def step(x: np.ndarray) -> tuple[float, float]:
        d_loss, g_loss = train_step(tf.constant(x))
        return float(d_loss), float(g_loss)

    options = tf.config.optimizer.get_experimental_options()
    tf.config.optimizer.set_experimental_options({**options, "remapping": False})
    try:
        run = gan_training_loop(step, mnist, total,
                                lambda num, seed: generate(shown, num, noise_size, seed=seed),
                                show_every, score_fn, score_every, num_score, show)
    finally:
        tf.config.optimizer.set_experimental_options({"remapping": options.get("remapping", True)})
    run.G_average = G_average
    return run
