"""Network visualization with PyTorch (assignment 3): saliency maps, fooling images and class
visualizations of a pretrained SqueezeNet, all by gradients of a class score with respect to
the pixels of the image rather than to the weights.

Images are (N, 3, H, W) float32 tensors, RGB normalized by the ImageNet mean and std (`preprocess`
makes one from a uint8 image or a PIL image, `deprocess` turns one back into uint8 pixels). The
course's helpers keep their names: `preprocess`, `deprocess`, `rescale`, `blur_image`, `jitter`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from cs231n import image_utils
from cs231n import net_visualization as common
from cs231n.image_utils import SQUEEZENET_MEAN, SQUEEZENET_STD  # noqa: F401  (the course imports them from here)
from cs231n.progress import progress


def _check_batch(name: str, X: torch.Tensor, batch: int | None = None) -> None:
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(X).__name__}")
    common.check_images(name, X.shape, X.dtype.is_floating_point, X.dtype, "NCHW", batch)


def compute_saliency_maps(X: torch.Tensor, y, model: nn.Module) -> torch.Tensor:
    """The saliency map of each image for its label: max over channels of |d score_y / d pixel|.

    Inputs:
    - X: (N, 3, H, W) normalized images
    - y: (N,) int64 labels (a tensor or an array), one per image
    - model: a pretrained CNN, (N, 3, H, W) -> (N, C) scores
    Returns saliency: (N, H, W) tensor, the largest absolute gradient over the 3 channels.
    X itself is left unchanged (the gradient is taken on a copy).
    """
    _check_batch("compute_saliency_maps: X", X)
    y = torch.as_tensor(common.check_labels("compute_saliency_maps: y", np.asarray(y), len(X)))
    model.eval()  # dropout off: the scores are a deterministic function of the pixels
    X = X.detach().clone().requires_grad_()
    saliency = None
    # TODO: Implement this function. Perform a forward and backward pass through the model to
    # compute the gradient of the correct class score with respect to each input image. You
    # first want to compute the loss over the correct scores (we'll combine losses across a
    # batch by summing), and then compute the gradients with a backward pass.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    scores = model(X)
    scores.gather(1, y.view(-1, 1)).sum().backward()
    saliency = X.grad.abs().amax(dim=1)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return saliency


def make_fooling_image(X: torch.Tensor, target_y: int, model: nn.Module,
                       learning_rate: float = common.FOOLING_LEARNING_RATE,
                       max_iters: int = common.FOOLING_MAX_ITERS,
                       history: list | None = None) -> torch.Tensor:
    """An image close to X that the model classifies as target_y: gradient ascent on the target
    score with normalized steps, X <- X + learning_rate * g / ||g||_2, g = d score_target / dX,
    stopping as soon as the model predicts target_y.

    Inputs:
    - X: (1, 3, H, W) normalized image
    - target_y: the class to fool the model into, in [0, 1000)
    - model: a pretrained CNN
    - learning_rate: the length (L2 norm) of each step
    - max_iters: the most gradient steps to take (the image after the last is returned, fooled
      or not: check the prediction)
    - history: a list, or None; if a list, the target score of every image the loop looks at is
      appended, so after the call len(history) - 1 steps were taken and history[-1] is the
      target score of the returned image
    Returns X_fooling: (1, 3, H, W), detached. X itself is left unchanged.
    """
    _check_batch("make_fooling_image: X", X, batch=1)
    target_y = common.check_target("make_fooling_image", target_y)
    model.eval()
    X_fooling = X.detach().clone().requires_grad_()
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
        scores = model(X_fooling)
        target_score = scores[0, target_y]
        if history is not None:
            history.append(target_score.item())
        if scores.argmax(dim=1).item() == target_y or step == max_iters:
            break
        target_score.backward()
        with torch.no_grad():
            g = X_fooling.grad
            X_fooling += learning_rate * g / g.norm()
            g.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return X_fooling.detach()


def class_visualization_update_step(img: torch.Tensor, model: nn.Module, target_y: int,
                                    l2_reg: float, learning_rate: float) -> torch.Tensor:
    """One step of gradient ascent, in place, on s_y(I) - l2_reg * ||I||_2^2 (the target score
    with L2 regularization), with the gradient normalized to length learning_rate.

    Inputs:
    - img: (1, 3, H, W) normalized image, a leaf tensor with requires_grad=True; updated in
      place, its .grad left at zero
    - model: a pretrained CNN
    - target_y: the class whose score to raise
    - l2_reg: strength of the L2 regularization, lambda
    - learning_rate: the length (L2 norm) of the step
    Returns img (the same tensor).
    """
    _check_batch("class_visualization_update_step: img", img, batch=1)
    target_y = common.check_target("class_visualization_update_step", target_y)
    if not (img.is_leaf and img.requires_grad):
        raise ValueError("class_visualization_update_step: img must be a leaf tensor with "
                         "requires_grad=True (it is updated in place)")
    # TODO: Use the model to compute the gradient of the score for the class target_y with
    # respect to the pixels of the image, and make a gradient step on the image using the
    # learning rate. Don't forget the L2 regularization term!
    # Be very careful about the signs of elements in your code.
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    objective = model(img)[0, target_y] - l2_reg * (img * img).sum()
    objective.backward()
    with torch.no_grad():
        img += learning_rate * img.grad / img.grad.norm()
        img.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return img


def create_class_visualization(target_y: int, model: nn.Module, l2_reg: float = 1e-3,
                               learning_rate: float = 25.0, num_iterations: int = 100,
                               blur_every: int = 10, max_jitter: int = 16, size: int = 224,
                               seed: int | None = 0, desc: str | None = None) -> torch.Tensor:
    """Generate an image that maximizes the score of target_y (the course's driver).

    From random pixels (`net_visualization.random_start`), each iteration shifts the image by a
    random jitter, takes `class_visualization_update_step`, shifts it back and clamps every pixel
    to [0, 1]; every `blur_every` iterations it blurs the image a little (sigma 0.5). Jitter and
    blur are image priors: without them the ascent finds high-frequency noise.
    Returns the final image (1, 3, size, size), normalized; `deprocess` shows it.
    """
    start = common.random_start(size, seed).transpose(0, 3, 1, 2)
    img = torch.from_numpy(np.ascontiguousarray(start)).requires_grad_()
    low, high = (torch.from_numpy(b).view(1, 3, 1, 1) for b in image_utils.squeezenet_pixel_bounds())
    offsets = common.jitter_offsets(num_iterations, max_jitter, seed)
    for t in progress(range(num_iterations), desc=desc or f"class {target_y}"):
        ox, oy = (int(o) for o in offsets[t])
        with torch.no_grad():
            img.copy_(jitter(img, ox, oy))
        class_visualization_update_step(img, model, target_y, l2_reg, learning_rate)
        with torch.no_grad():
            img.copy_(jitter(img, -ox, -oy))
            img.copy_(torch.maximum(torch.minimum(img, high), low))
            if common.blur_now(t, blur_every):
                blur_image(img, sigma=common.BLUR_SIGMA)
    return img.detach()


# --------------------------------------------------------------------------- the course's helpers

def preprocess(img, size: int = 224) -> torch.Tensor:
    """A uint8 RGB image (H, W, 3) or a PIL image -> normalized tensor (1, 3, H', W').

    The shorter side is resized to `size` by bilinear resampling (torchvision's ``Resize``, which
    the course used); an image that already has that size is not resampled.
    """
    img = np.asarray(img.convert("RGB") if hasattr(img, "convert") else img)
    x = image_utils.preprocess_image(image_utils.resize_shorter_side(img, size))
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def deprocess(img: torch.Tensor, should_rescale: bool = True) -> np.ndarray:
    """A normalized image (1, 3, H, W) or (3, H, W) -> uint8 pixels (H, W, 3) for plt.imshow.

    should_rescale stretches the pixel values to the full range first (the course's default).
    (The course returned a PIL image; np.asarray of it is this array.)
    """
    x = img.detach().cpu().numpy()
    x = x[0] if x.ndim == 4 else x
    return image_utils.deprocess_image(x.transpose(1, 2, 0), rescale=should_rescale)


def rescale(x: torch.Tensor) -> torch.Tensor:
    """Stretch x linearly to [0, 1]: (x - min) / (max - min)."""
    low, high = x.min(), x.max()
    return (x - low) / (high - low)


def blur_image(X: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Gaussian blur of a batch (N, 3, H, W) over H and W, IN PLACE; returns X."""
    blurred = image_utils.blur_image(X.detach().cpu().numpy(), sigma)
    X.data.copy_(torch.from_numpy(blurred).to(X.dtype))
    return X


def jitter(X: torch.Tensor, ox: int, oy: int) -> torch.Tensor:
    """Shift a batch (N, C, H, W) circularly by ox pixels right and oy pixels down (negative
    values shift back). Returns a new tensor."""
    return torch.roll(X, shifts=(int(oy), int(ox)), dims=(2, 3))
