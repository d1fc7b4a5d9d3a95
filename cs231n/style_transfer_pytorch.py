"""Style transfer with PyTorch (assignment 3; Gatys, Ecker and Bethge, 2015): an image that has
the content of one picture and the style of another, found by gradient descent on its pixels
through a pretrained SqueezeNet.

Feature maps are (1, C, H, W) tensors from `extract_features` (the output of each of the 13
feature layers); images are (1, 3, H, W) normalized tensors. The loss is a weighted sum of

    content  w_c * sum (F_l - P_l)^2                   (the content layer l)
    style    sum_l w_l * sum (G_l - A_l)^2             (Gram matrices, over the style layers)
    tv       w_t * sum of squared differences of neighbouring pixels (smoothness)
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from cs231n import style_transfer as common
from cs231n.classifiers.squeezenet_pytorch import (
    SqueezeNet,
    extract_features,
    load_pretrained_squeezenet,
)
from cs231n.gradient_check import rel_error  # noqa: F401  (the course's notebook imports it from here)
from cs231n.net_visualization_pytorch import deprocess as _deprocess
from cs231n.net_visualization_pytorch import preprocess as _preprocess
from cs231n.net_visualization_pytorch import rescale  # noqa: F401  (a course helper, re-exported)
from cs231n.progress import progress

Tensor = torch.Tensor


def content_loss(content_weight: float, content_current: Tensor, content_original: Tensor) -> Tensor:
    """Content loss: w_c * sum over all positions and channels of (F - P)^2.

    Inputs:
    - content_weight: scalar w_c
    - content_current: features of the current image, (1, C_l, H_l, W_l)
    - content_original: features of the content image, (1, C_l, H_l, W_l)
    Returns a scalar tensor.
    """
    common.check_same_shape("content_loss", content_current.shape, content_original.shape)
    loss = None
    # TODO: Compute the content loss: content_weight times the sum of the squared
    # differences between the current and the original features. Store it in loss.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = content_weight * torch.sum((content_current - content_original) ** 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def gram_matrix(features: Tensor, normalize: bool = True) -> Tensor:
    """Gram matrices G[n, c, c'] = sum over positions of F[n, c, :] * F[n, c', :].

    Inputs:
    - features: (N, C, H, W) feature maps of a batch of N images
    - normalize: if True, divide by the number of neurons H * W * C
    Returns gram: (N, C, C).
    """
    if features.ndim != 4:
        raise ValueError(f"gram_matrix: expected features (N, C, H, W), got shape "
                         f"{tuple(features.shape)}")
    gram = None
    # TODO: Reshape the features of each image to (C, H * W) and multiply them by
    # their transpose to get the (C, C) Gram matrix of each image; divide by
    # H * W * C when normalize is True. Store the (N, C, C) result in gram.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    N, C, H, W = features.shape
    F = features.reshape(N, C, H * W)
    gram = F @ F.transpose(1, 2)
    if normalize:
        gram = gram / (H * W * C)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return gram


def style_loss(feats: Sequence[Tensor], style_layers: Sequence[int],
               style_targets: Sequence[Tensor], style_weights: Sequence[float]) -> Tensor:
    """Style loss: sum over the style layers l of w_l * sum (G_l - A_l)^2.

    Inputs:
    - feats: the features of the current image at every layer (from `extract_features`)
    - style_layers: indices into feats of the layers in the style loss
    - style_targets: style_targets[i] is the Gram matrix (1, C, C) of the style image at
      layer style_layers[i]
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
    loss = feats[0].new_zeros(())
    for i, target, weight in zip(style_layers, style_targets, style_weights, strict=True):
        loss = loss + weight * torch.sum((gram_matrix(feats[i]) - target) ** 2)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


def tv_loss(img: Tensor, tv_weight: float) -> Tensor:
    """Total variation loss: w_t * (sum of squared differences of vertical neighbours + sum of
    squared differences of horizontal neighbours), over all channels.

    Inputs:
    - img: (1, 3, H, W) image
    - tv_weight: scalar w_t
    Returns a scalar tensor.
    """
    common.check_tv_image(img.shape, img.dtype.is_floating_point, img.dtype, "NCHW")
    loss = None
    # TODO: Compute the total variation loss: tv_weight times the sum of squared
    # differences of vertically neighbouring pixels plus that of horizontally
    # neighbouring pixels, over all channels. Store it in loss.
    # Your implementation should be vectorized and not require any loops!
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = tv_weight * (torch.sum((img[:, :, 1:, :] - img[:, :, :-1, :]) ** 2)
                        + torch.sum((img[:, :, :, 1:] - img[:, :, :, :-1]) ** 2))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return loss


# --------------------------------------------------------------------------- the optimisation

def _feature_stack(cnn: nn.Module | None, deepest: int) -> nn.Sequential:
    """The feature layers 0..deepest of cnn (a SqueezeNet, its `features`, or None: pretrained)."""
    cnn = load_pretrained_squeezenet() if cnn is None else cnn
    layers = cnn.features if isinstance(cnn, SqueezeNet) else cnn
    return layers[:deepest + 1]


def features_from_img(imgpath, imgsize: int, cnn: nn.Module | None = None) -> tuple[list[Tensor], Tensor]:
    """(features at every layer, normalized image (1, 3, H, W)) of an image file or course name
    resized to `imgsize` (the course's helper; cnn None loads the pretrained SqueezeNet)."""
    img = preprocess(common.load_style_image(imgpath, imgsize), size=imgsize)
    return extract_features(img, _feature_stack(cnn, common.NUM_LAYERS - 1)), img


def style_transfer(content_image, style_image, image_size: int, style_size: int,
                   content_layer: int, content_weight: float, style_layers: Sequence[int],
                   style_weights: Sequence[float], tv_weight: float, init_random: bool = False,
                   *, cnn: nn.Module | None = None, num_steps: int = common.NUM_STEPS,
                   decay_lr_at: int | None = None, clamp_until: int | None = None,
                   seed: int | None = 0, snapshot_every: int = 100,
                   desc: str | None = None) -> common.TransferResult:
    """Run the course's style transfer: Adam on the pixels, lr 3.0, a fresh Adam at lr 0.1 from
    step 180, 200 steps, pixels clamped to [-1.5, 1.5] before each of the first 190.

    Inputs (the course's):
    - content_image, style_image: file paths, course names ('styles/tubingen.jpg') or uint8
      RGB arrays
    - image_size: shorter side of the content (and generated) image; style_size: of the style
      image (both resized by bilinear resampling, as the course)
    - content_layer: feature layer of the content loss (0..12)
    - content_weight, style_weights (one per style layer), tv_weight: the loss weights
    - style_layers: feature layers of the style loss
    - init_random: start from uniform noise in [0, 1) instead of the content image
    Keyword-only (ours):
    - cnn: a SqueezeNet or its `features`; None loads the pretrained one
    - num_steps, decay_lr_at, clamp_until: the schedule; None scales the course's 180 and 190
      to num_steps (see `style_transfer.schedule`)
    - seed: of the random start; snapshot_every: keep the image every that many steps
    - desc: label of the progress bar
    Returns a TransferResult: the final image (uint8 (H, W, 3)), the losses at every step, the
    snapshots and the seconds the optimisation took.
    """
    content_layer = common.check_layer("content_layer", content_layer)
    common.check_style_layers(style_layers, style_weights)
    num_steps, decay_lr_at, clamp_until = common.schedule(num_steps, decay_lr_at, clamp_until)
    layers = _feature_stack(cnn, max([content_layer, *style_layers]))

    content_img = preprocess(common.load_style_image(content_image, image_size), size=image_size)
    style_img = preprocess(common.load_style_image(style_image, style_size), size=style_size)
    with torch.no_grad():
        content_target = extract_features(content_img, layers)[content_layer]
        feats = extract_features(style_img, layers)
        style_targets = [gram_matrix(feats[i]) for i in style_layers]

    if init_random:
        start = common.random_start(*content_img.shape[2:], seed).transpose(0, 3, 1, 2)
        img = torch.from_numpy(np.ascontiguousarray(start)).requires_grad_()
    else:
        img = content_img.clone().requires_grad_()
    optimizer = torch.optim.Adam([img], lr=common.INITIAL_LR)
    losses: dict[str, list[float]] = {"total": [], "content": [], "style": [], "tv": []}
    snapshots = {}
    began = time.perf_counter()
    for t in progress(range(num_steps), desc=desc or "style transfer"):
        if t < clamp_until:
            with torch.no_grad():
                img.clamp_(-common.CLAMP, common.CLAMP)
        if t % snapshot_every == 0:
            snapshots[t] = deprocess(img)
        optimizer.zero_grad()
        feats = extract_features(img, layers)
        parts = {"content": content_loss(content_weight, feats[content_layer], content_target),
                 "style": style_loss(feats, style_layers, style_targets, style_weights),
                 "tv": tv_loss(img, tv_weight)}
        loss = parts["content"] + parts["style"] + parts["tv"]
        loss.backward()
        for name, value in [("total", loss), *parts.items()]:
            losses[name].append(float(value.detach()))
        if t == decay_lr_at:
            optimizer = torch.optim.Adam([img], lr=common.DECAYED_LR)
        optimizer.step()
    seconds = time.perf_counter() - began
    return common.TransferResult(deprocess(img), losses, snapshots, seconds)


# --------------------------------------------------------------------------- the course's helpers

def preprocess(img, size: int = 512) -> Tensor:
    """A uint8 RGB image (H, W, 3) or a PIL image -> normalized (1, 3, H', W'), the shorter
    side resized to `size` by bilinear resampling (torchvision's ``Resize``, as the course)."""
    return _preprocess(img, size)


def deprocess(img: Tensor) -> np.ndarray:
    """A normalized image (1, 3, H, W) -> uint8 pixels (H, W, 3), stretched to the full range
    (the course's display of its generated images)."""
    return _deprocess(img, should_rescale=True)
