"""CIFAR-10 in PyTorch (assignment 2): the same networks at three levels of abstraction, and a fast model.

- Part II, barebones: parameters are raw tensors with ``requires_grad=True``; the forward
  passes `two_layer_fc` and `three_layer_convnet` are plain functions, autograd computes the
  gradients and `training_step` makes the SGD update by hand.
- Part III, Module API: `TwoLayerFC` and `ThreeLayerConvNet` subclass ``nn.Module``; an optimizer
  from ``torch.optim`` updates them (`train_part34`).
- Part IV, Sequential API: the same nets as ``nn.Sequential`` stacks.
- Part V, open-ended: `CifarNet`, a small VGG-like net (conv-pool-batchnorm-GELU groups) trained by
  `train_open_ended` with augmentation, label smoothing, Nesterov SGD and a one-cycle schedule.

Data comes from `cs231n.cifar10_training.load_cifar10` (course split 49k / 1k / 10k, normalized
per channel with the training split's statistics) and is batched here with ``torch.utils.data``.
Every function takes a ``device`` (default: `cs231n.config.torch_device()`, CUDA when present), so
the same notebook runs on a CPU or a GPU machine. This module never imports TensorFlow.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cs231n import config
from cs231n.cifar10_training import finite_loss, one_cycle_lr, task_result, train_loop
from cs231n.progress import progress

Tensor = torch.Tensor
Params = list[Tensor]
NOTEBOOK = "assignment2/PyTorch.ipynb"


def _device(device) -> torch.device:
    return config.torch_device() if device is None else torch.device(device)


# --------------------------------------------------------------------------- data

def cifar10_loaders(data: dict, batch_size: int = 64, seed: int = 0
                    ) -> tuple[DataLoader, DataLoader, DataLoader]:
    """DataLoaders over the arrays of `cs231n.cifar10_training.load_cifar10` (channels first).

    Inputs:
    - data: dict from load_cifar10(channels_first=True)
    - batch_size: minibatch size B
    - seed: seeds the training loader's shuffling, so every run sees the same batches
    Returns (loader_train, loader_val, loader_test); each yields x (B, 3, 32, 32) float32 and
    y (B,) int64; only loader_train shuffles.
    """
    def dataset(name):
        return TensorDataset(torch.from_numpy(data[f"X_{name}"]),
                             torch.from_numpy(data[f"y_{name}"]))

    gen = torch.Generator().manual_seed(seed)
    return (DataLoader(dataset("train"), batch_size=batch_size, shuffle=True, generator=gen),
            DataLoader(dataset("val"), batch_size=batch_size),
            DataLoader(dataset("test"), batch_size=batch_size))


# --------------------------------------------------------------------------- Part II: barebones

def flatten(x: Tensor) -> Tensor:
    """Collapse every axis but the first: (N, d1, ..., dM) -> (N, d1 * ... * dM).

    A channels-first batch (N, C, H, W) flattens in C, H, W order.
    """
    N = x.shape[0]
    return x.reshape(N, -1)  # reshape, not view: it also accepts channels_last tensors


def two_layer_fc(x: Tensor, params: Params) -> Tensor:
    """Forward pass of a two-layer fully-connected ReLU network without biases.

    Inputs:
    - x: (N, d1, ..., dM) minibatch, with D = d1 * ... * dM
    - params: [w1, w2] with w1 (D, H) and w2 (H, K)
    Returns scores (N, K).
    """
    w1, w2 = params
    x = flatten(x)
    return F.relu(x.mm(w1)).mm(w2)


def three_layer_convnet(x: Tensor, params: Params) -> Tensor:
    """Forward pass of conv5x5(pad 2) - ReLU - conv3x3(pad 1) - ReLU - fully connected.

    Inputs:
    - x: (N, 3, H, W) images
    - params: [conv_w1 (F1, 3, 5, 5), conv_b1 (F1,), conv_w2 (F2, F1, 3, 3), conv_b2 (F2,),
      fc_w (F2 * H * W, K), fc_b (K,)]; the convolutions keep H and W, so the fully
      connected layer sees F2 * H * W features (flattened in F2, H, W order)
    Returns scores (N, K).
    """
    conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b = params
    scores = None
    ###########################################################################
    # TODO: Implement the forward pass of the three-layer ConvNet with        #
    # torch.nn.functional: a 5x5 convolution with conv_w1 and conv_b1 and     #
    # zero-padding 2, ReLU, a 3x3 convolution with conv_w2 and conv_b2 and    #
    # zero-padding 1, ReLU, then `flatten` and the fully connected layer      #
    # fc_w, fc_b. Store the (N, K) scores in scores.                          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    h1 = F.relu(F.conv2d(x, conv_w1, conv_b1, padding=2))
    h2 = F.relu(F.conv2d(h1, conv_w2, conv_b2, padding=1))
    scores = flatten(h2).mm(fc_w) + fc_b
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(scores, "three_layer_convnet", NOTEBOOK)


def random_weight(shape: Sequence[int], device=None, dtype: torch.dtype = torch.float32) -> Tensor:
    """A weight tensor with Kaiming normal initialization, std = sqrt(2 / fan_in), requiring grad.

    Inputs:
    - shape: (D, M) for a fully-connected weight (fan_in = D) or (F, C, HH, WW) for a
      convolution (fan_in = C * HH * WW)
    Returns a leaf tensor of that shape with requires_grad=True.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) not in (2, 4):
        raise ValueError(f"random_weight: shape must be (D, M) or (F, C, HH, WW), got {shape}")
    fan_in = shape[0] if len(shape) == 2 else int(np.prod(shape[1:]))
    w = torch.randn(shape, device=_device(device), dtype=dtype) * math.sqrt(2.0 / fan_in)
    w.requires_grad = True
    return w


def zero_weight(shape: Sequence[int], device=None, dtype: torch.dtype = torch.float32) -> Tensor:
    """A tensor of zeros requiring grad (for biases). Returns a leaf tensor of the given shape."""
    return torch.zeros(tuple(shape), device=_device(device), dtype=dtype, requires_grad=True)


def _accuracy(loader: DataLoader, predict: Callable[[Tensor], Tensor], device) -> float:
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            correct += int((predict(x).argmax(dim=1) == y).sum())
            total += len(y)
    if total == 0:
        raise ValueError("check_accuracy: the loader is empty")
    return correct / total


def check_accuracy_part2(loader: DataLoader, model_fn: Callable, params: Params, device=None) -> float:
    """Classification accuracy of a barebones model on a loader's data (no graph is built).

    Inputs:
    - loader: yields x (B, ...) and y (B,)
    - model_fn: scores = model_fn(x, params), scores (B, K)
    - params: the model's tensors
    Returns the fraction of correct predictions (and prints it).
    """
    device = _device(device)
    acc = _accuracy(loader, lambda x: model_fn(x, params), device)
    print(f"Got {acc * len(loader.dataset):.0f} / {len(loader.dataset)} correct ({100 * acc:.2f}%)")
    return acc


def training_step(model_fn: Callable, x: Tensor, y: Tensor, params: Params,
                  learning_rate: float) -> float:
    """One step of vanilla SGD on a barebones model: forward, autograd backward, w -= lr * dw.

    Inputs:
    - model_fn: scores = model_fn(x, params)
    - x: (N, ...) minibatch; y: (N,) int64 labels in [0, K)
    - params: leaf tensors with requires_grad=True; updated in place, their .grad reset to zero
    - learning_rate: the SGD step size
    Returns the softmax cross-entropy loss of the batch BEFORE the update (a float).
    """
    loss = None
    ###########################################################################
    # TODO: Implement one step of SGD: the scores from model_fn, their        #
    # softmax cross-entropy loss against y (F.cross_entropy), and its         #
    # gradients with loss.backward(); then, inside torch.no_grad(), update    #
    # every parameter in place, w -= learning_rate * w.grad, and set its      #
    # gradient back to zero. Store the loss tensor in loss.                   #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    loss = F.cross_entropy(model_fn(x, params), y)
    loss.backward()
    with torch.no_grad():  # the update itself must not become part of the graph
        for w in params:
            w -= learning_rate * w.grad
            w.grad.zero_()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(loss, "training_step", NOTEBOOK).item()


def _per_epoch(loader: DataLoader, max_iters: int | None) -> int:
    return len(loader) if max_iters is None else min(max_iters, len(loader))


def train_part2(model_fn: Callable, params: Params, learning_rate: float, loader_train: DataLoader,
                loader_val: DataLoader, print_every: int = 100, device=None,
                max_iters: int | None = None) -> dict:
    """Train a barebones model for one epoch with hand-written SGD (`training_step`).

    Inputs:
    - model_fn: scores = model_fn(x, params)
    - params: leaf tensors, updated in place
    - learning_rate: SGD step size
    - loader_train, loader_val: the data; validation accuracy is checked every print_every
      iterations and after the last one
    - max_iters: stop the epoch after this many batches (quick runs); None for all
    Returns history: "loss" (one float per iteration) and "val_acc" (list of (iteration, acc)).
    """
    device = _device(device)
    return train_loop(lambda x, y: training_step(model_fn, x.to(device), y.to(device), params, learning_rate),
                      lambda: check_accuracy_part2(loader_val, model_fn, params, device),
                      lambda: loader_train, _per_epoch(loader_train, max_iters), 1, print_every)


# --------------------------------------------------------------------------- Part III: Module API

class Flatten(nn.Module):
    """`flatten` as a module, so it can sit in an nn.Sequential."""

    def forward(self, x: Tensor) -> Tensor:
        return flatten(x)


class TwoLayerFC(nn.Module):
    """fully connected - ReLU - fully connected, Kaiming-initialized weights.

    Input (N, d1, ..., dM) with d1 * ... * dM = input_size; output scores (N, num_classes).
    """

    def __init__(self, input_size: int, hidden_size: int, num_classes: int):
        super().__init__()
        self.fc1 = nn.Linear(input_size, hidden_size)
        nn.init.kaiming_normal_(self.fc1.weight)
        self.fc2 = nn.Linear(hidden_size, num_classes)
        nn.init.kaiming_normal_(self.fc2.weight)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.relu(self.fc1(flatten(x))))


class ThreeLayerConvNet(nn.Module):
    """conv5x5(channel_1, pad 2) - ReLU - conv3x3(channel_2, pad 1) - ReLU - fully connected.

    Kaiming normal weights, zero biases. Input (N, in_channel, 32, 32); output (N, num_classes).
    """

    def __init__(self, in_channel: int, channel_1: int, channel_2: int, num_classes: int):
        super().__init__()
        #######################################################################
        # TODO: Create the layers of the ConvNet: self.conv1, a 5x5 nn.Conv2d #
        # from in_channel to channel_1 channels with padding 2; self.conv2, a #
        # 3x3 nn.Conv2d from channel_1 to channel_2 channels with padding 1;  #
        # self.fc, an nn.Linear from the channel_2 * 32 * 32 features to      #
        # num_classes. Initialize their weights with nn.init.kaiming_normal_  #
        # and their biases with zeros.                                        #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.conv1 = nn.Conv2d(in_channel, channel_1, 5, padding=2)
        self.conv2 = nn.Conv2d(channel_1, channel_2, 3, padding=1)
        self.fc = nn.Linear(channel_2 * 32 * 32, num_classes)
        for layer in (self.conv1, self.conv2, self.fc):
            nn.init.kaiming_normal_(layer.weight)
            nn.init.zeros_(layer.bias)
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def forward(self, x: Tensor) -> Tensor:
        scores = None
        #######################################################################
        # TODO: Implement the forward pass with the layers created in         #
        # __init__: conv1 - ReLU - conv2 - ReLU - flatten - fc. Store the     #
        # (N, num_classes) scores in scores.                                  #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        scores = self.fc(flatten(x))
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return task_result(scores, "ThreeLayerConvNet", NOTEBOOK)


def check_accuracy_part34(loader: DataLoader, model: nn.Module, device=None) -> float:
    """Accuracy of a Module on a loader's data, in eval mode (batchnorm/dropout at test behaviour).

    Returns the fraction of correct predictions (and prints it). Leaves the model in eval mode.
    """
    device = _device(device)
    model.eval()
    acc = _accuracy(loader, model, device)
    print(f"Got {acc * len(loader.dataset):.0f} / {len(loader.dataset)} correct ({100 * acc:.2f}%)")
    return acc


def train_part34(model: nn.Module, optimizer: torch.optim.Optimizer, loader_train: DataLoader,
                 loader_val: DataLoader, epochs: int = 1, print_every: int = 100, device=None,
                 max_iters: int | None = None) -> dict:
    """Train a Module with a torch.optim optimizer and softmax cross-entropy.

    Inputs:
    - model: moved to the device; create the optimizer from model.parameters() first
    - optimizer: any torch.optim optimizer
    - loader_train, loader_val: the data; validation accuracy is checked every print_every
      iterations and at the end
    - epochs: passes over loader_train
    - max_iters: batches per epoch (quick runs); None for all
    Returns history: "loss" (one float per iteration) and "val_acc" (list of (iteration, acc)).
    """
    device = _device(device)
    model.to(device)

    def step(x, y):
        model.train()
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return train_loop(step, lambda: check_accuracy_part34(loader_val, model, device),
                      lambda: loader_train, _per_epoch(loader_train, max_iters), epochs, print_every)


# --------------------------------------------------------------------------- Part IV: Sequential API

def two_layer_fc_sequential(input_size: int, hidden_size: int, num_classes: int) -> nn.Sequential:
    """TwoLayerFC as an nn.Sequential: Flatten - Linear - ReLU - Linear (PyTorch's default init).

    Input (N, d1, ..., dM) with d1 * ... * dM = input_size; output scores (N, num_classes).
    """
    return nn.Sequential(Flatten(), nn.Linear(input_size, hidden_size), nn.ReLU(),
                         nn.Linear(hidden_size, num_classes))


def three_layer_convnet_sequential(in_channel: int, channel_1: int, channel_2: int,
                                   num_classes: int) -> nn.Sequential:
    """ThreeLayerConvNet as an nn.Sequential, with PyTorch's default initialization.

    Layers: Conv2d(5x5, pad 2) - ReLU - Conv2d(3x3, pad 1) - ReLU - Flatten - Linear.
    Input (N, in_channel, 32, 32); output (N, num_classes).
    The default init (uniform, bound 1/sqrt(fan_in)) starts the 16384-input Linear layer with
    2.4x smaller weights than Kaiming's; with Nesterov momentum at lr 1e-2 the Kaiming-initialized
    net blows up on its first steps.
    """
    model = None
    ###########################################################################
    # TODO: Build the same ConvNet as an nn.Sequential: nn.Conv2d from        #
    # in_channel to channel_1 channels (5x5, padding 2), ReLU, nn.Conv2d from #
    # channel_1 to channel_2 channels (3x3, padding 1), ReLU, Flatten,        #
    # nn.Linear from channel_2 * 32 * 32 to num_classes; keep PyTorch's       #
    # default initialization. Store it in model.                              #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    model = nn.Sequential(
        nn.Conv2d(in_channel, channel_1, 5, padding=2), nn.ReLU(),
        nn.Conv2d(channel_1, channel_2, 3, padding=1), nn.ReLU(),
        Flatten(), nn.Linear(channel_2 * 32 * 32, num_classes))
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(model, "three_layer_convnet_sequential", NOTEBOOK)


def count_params(model: nn.Module) -> int:
    """Number of learnable scalars of a Module."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# --------------------------------------------------------------------------- Part V: open-ended

def fast_bf16(device=None) -> bool:
    """Whether bfloat16 autocast pays off on this device.

    True on a CUDA GPU with bf16 support and on CPUs with AMX tiles (Intel Sapphire Rapids
    and later), where oneDNN runs bf16 convolutions on the matrix units; False elsewhere
    (bf16 emulated on older CPUs is slower than float32).
    """
    device = _device(device)
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(amx and amx())


class ConvGroup(nn.Module):
    """conv3x3 - 2x2 max pool - batchnorm - GELU - conv3x3 - batchnorm - GELU.

    (N, c_in, H, W) -> (N, c_out, H/2, W/2). Pooling right after the first convolution makes
    the second convolution 4x cheaper; the convolutions have no bias (batchnorm has one).
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)
        self.pool = nn.MaxPool2d(2)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, x: Tensor) -> Tensor:
        x = F.gelu(self.bn1(self.pool(self.conv1(x))))
        return F.gelu(self.bn2(self.conv2(x)))


class CifarNet(nn.Module):
    """The open-ended model: a VGG-like net of three ConvGroups.

    stem conv3x3 (stem_width) - BN - GELU, then ConvGroup(widths[0]) 32->16, ConvGroup(widths[1])
    16->8, ConvGroup(widths[2]) 8->4, global max pool, fully connected to num_classes, times
    logit_scale. Input (N, 3, 32, 32); output scores (N, num_classes).

    Why logit_scale: the pooled features f are positive and of size ~2 each, so one SGD step on
    the last layer moves a score by about lr * |f|^2 ~ lr * 4 * widths[2], enough to blow up the
    loss at the start. Scaling the scores by s scales that by s^2.
    """

    def __init__(self, widths: Sequence[int] = (48, 192, 192), stem_width: int = 32,
                 num_classes: int = 10, logit_scale: float = 0.125):
        super().__init__()
        if len(widths) != 3 or min(widths) < 1 or stem_width < 1:
            raise ValueError(f"CifarNet: widths must be 3 positive ints and stem_width positive, "
                             f"got widths={widths}, stem_width={stem_width}")
        #######################################################################
        # TODO: Create the layers of the open-ended model: self.stem, a 3x3   #
        # convolution from 3 to stem_width channels (padding 1, no bias),     #
        # BatchNorm2d and GELU; self.groups, the three ConvGroups             #
        # stem_width -> widths[0] -> widths[1] -> widths[2]; self.fc, an      #
        # nn.Linear from widths[2] to num_classes without bias. Keep          #
        # logit_scale in self.logit_scale, and initialize the weights of      #
        # every convolution with Kaiming normal for a ReLU                    #
        # (nonlinearity="relu").                                              #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        self.stem = nn.Sequential(nn.Conv2d(3, stem_width, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(stem_width), nn.GELU())
        self.groups = nn.Sequential(ConvGroup(stem_width, widths[0]), ConvGroup(widths[0], widths[1]),
                                    ConvGroup(widths[1], widths[2]))
        self.fc = nn.Linear(widths[2], num_classes, bias=False)
        self.logit_scale = logit_scale
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

    def forward(self, x: Tensor) -> Tensor:
        scores = None
        #######################################################################
        # TODO: Implement the forward pass: stem, the three groups, a global  #
        # max pool over H and W, the fully connected layer, times             #
        # self.logit_scale. Store the (N, num_classes) scores in scores.      #
        #######################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        x = self.groups(self.stem(x))
        scores = self.fc(torch.amax(x, dim=(2, 3))) * self.logit_scale  # global max pool
        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        return task_result(scores, "CifarNet", NOTEBOOK)


def augment_batch(x: Tensor, pad: int = 2, generator: torch.Generator | None = None) -> Tensor:
    """Random translation and horizontal flip of a batch of images (a new tensor).

    Each image is shifted by an independent random offset in [-pad, pad] along each axis
    (the border is filled by reflection) and mirrored left-right with probability 1/2.

    Inputs:
    - x: (N, C, H, W) images
    - pad: the largest shift in pixels (0: flips only)
    - generator: a torch.Generator on x's device, for reproducible augmentation
    Returns a tensor like x.
    """
    if x.ndim != 4:
        raise ValueError(f"augment_batch expects (N, C, H, W) images, got shape {tuple(x.shape)}")
    N, C, H, W = x.shape
    if pad < 0 or pad >= min(H, W):
        raise ValueError(f"augment_batch: pad must be in [0, {min(H, W) - 1}], got {pad}")
    out = None
    ###########################################################################
    # TODO: Augment the batch. Shift each image by its own random offset in   #
    # [-pad, pad] along each axis, the border filled by reflection (pad the   #
    # batch by pad pixels with mode "reflect", then crop each image's H x W   #
    # window at its offset), and mirror each image left-right with            #
    # probability 1/2. Draw every random number with `generator`, on x's      #
    # device. Store the result, shaped like x, in out.                        #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    dev = x.device
    if pad > 0:
        padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        dy, dx = torch.randint(0, 2 * pad + 1, (2, N, 1, 1, 1), generator=generator, device=dev)
        # a crop is two gathers: the H rows of each image, then its W columns
        rows = dy + torch.arange(H, device=dev).view(1, 1, H, 1)
        x = padded.gather(2, rows.expand(N, C, H, W + 2 * pad))
        cols = dx + torch.arange(W, device=dev).view(1, 1, 1, W)
        x = x.gather(3, cols.expand(N, C, H, W))
    flip = torch.rand(N, generator=generator, device=dev) < 0.5
    out = torch.where(flip.view(N, 1, 1, 1), x.flip(3), x)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(out, "augment_batch", NOTEBOOK)


def predict_scores(model: nn.Module, X, batch_size: int = 500, tta: bool = False, device=None,
                   bf16: bool | None = None) -> Tensor:
    """Class scores of a model in eval mode, optionally with flip test-time augmentation.

    Inputs:
    - X: (N, 3, H, W) float32 images (numpy or tensor)
    - tta: average the scores of each image and its mirror image (a flip is a label-preserving
      change the model was trained on, so the two views give two opinions on the same image)
    - bf16: bfloat16 autocast; None: when `fast_bf16(device)`
    Returns scores (N, K) float32 on the CPU.
    """
    device = _device(device)
    bf16 = fast_bf16(device) if bf16 is None else bf16
    X = torch.as_tensor(X)
    model.eval()
    out = []
    with torch.no_grad(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        for i in range(0, len(X), batch_size):
            x = X[i:i + batch_size].to(device).contiguous(memory_format=torch.channels_last)
            s = model(x).float()
            if tta:
                s = (s + model(x.flip(3)).float()) / 2
            out.append(s.cpu())
    return torch.cat(out)


def accuracy(model: nn.Module, X, y, tta: bool = False, device=None, bf16: bool | None = None) -> float:
    """Fraction of the N images X (N, 3, H, W) whose predicted class equals y (N,); see predict_scores."""
    scores = predict_scores(model, X, tta=tta, device=device, bf16=bf16)
    return float((scores.argmax(dim=1) == torch.as_tensor(y)).float().mean())


def open_ended_optimizer(model: nn.Module, learning_rate: float = 0.4, momentum: float = 0.9,
                         weight_decay: float = 5e-4) -> torch.optim.Optimizer:
    """SGD with Nesterov momentum for the open-ended model.

    Weight decay applies to the conv and linear weights only (the parameters with ndim > 1);
    batchnorm scales and all biases are left free. The learning rate is set per step by
    `open_ended_step`; `learning_rate` is only the initial value.
    Returns a torch.optim.SGD over model.parameters() in two groups (decayed, not decayed).
    """
    optimizer = None
    ###########################################################################
    # TODO: Create a torch.optim.SGD with Nesterov momentum over the          #
    # parameters of the model in two groups: the weights of the convolutions  #
    # and linear layers (the parameters with ndim > 1) with weight_decay, and #
    # the rest (biases, batchnorm scales and shifts) with no weight decay.    #
    # Store it in optimizer.                                                  #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": weight_decay},
                                 {"params": rest, "weight_decay": 0.0}],
                                lr=learning_rate, momentum=momentum, nesterov=True)
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(optimizer, "open_ended_optimizer", NOTEBOOK)


def open_ended_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor,
                    lr: float, label_smoothing: float = 0.2, bf16: bool = False) -> float:
    """One training step of the open-ended model.

    Sets the optimizer's learning rate to `lr`, computes cross-entropy with label smoothing
    on model(x) (under bfloat16 autocast when `bf16`, the loss itself in float32), and makes
    one optimizer step.

    Inputs:
    - model: in train mode, on x's device
    - x: (B, 3, H, W) augmented images (channels-last memory layout pays off on a CPU)
    - y: (B,) int64 labels in [0, K)
    Returns the loss of the batch BEFORE the update (a float).
    """
    loss = None
    ###########################################################################
    # TODO: Implement one training step. Set the learning rate of every       #
    # parameter group of the optimizer to lr; compute the cross-entropy of    #
    # model(x) against y with label_smoothing, running the model under        #
    # bfloat16 autocast when bf16 is true (the loss itself in float32); then  #
    # zero the gradients, backpropagate and take one step of the optimizer.   #
    # Store the loss tensor in loss.                                          #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    for group in optimizer.param_groups:
        group["lr"] = lr
    with torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(model(x).float(), y, label_smoothing=label_smoothing)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return task_result(loss, "open_ended_step", NOTEBOOK).item()


def augmented_batches(loader: Iterable[tuple[Tensor, Tensor]], per_epoch: int, device: torch.device,
                      pad: int, generator: torch.Generator) -> Iterator[tuple[Tensor, Tensor]]:
    """The first per_epoch batches of one pass over `loader`, moved to `device`, the images
    augmented (`augment_batch`) and in channels-last memory layout.

    Lazy: each batch is augmented when it is asked for, so the random numbers drawn depend
    only on how many batches were used. Yields x (B, 3, H, W) and y (B,).
    """
    for i, (x, y) in enumerate(loader):
        if i >= per_epoch:
            break
        x = augment_batch(x.to(device), pad, generator)
        yield x.contiguous(memory_format=torch.channels_last), y.to(device)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer,
                batches: Iterable[tuple[Tensor, Tensor]], lrs: Sequence[float],
                label_smoothing: float = 0.2, bf16: bool = False, first_step: int = 0,
                desc: str = "") -> list[float]:
    """One epoch of `open_ended_step`s, the i-th batch at learning rate lrs[i].

    Inputs:
    - batches: (x (B, 3, H, W), y (B,)) on the model's device; at most len(lrs) are used
    - lrs: the learning rate of each step
    - first_step: the index of this epoch's first step, for the error message
    Returns the losses, one float per step. Raises FloatingPointError at a non-finite loss.
    """
    model.train()
    losses = []
    # strict=False: the batch iterator may hold more batches than this epoch has steps
    bar = progress(zip(batches, lrs, strict=False), total=len(lrs), desc=desc)
    for (x, y), lr in bar:
        loss = open_ended_step(model, optimizer, x, y, lr, label_smoothing, bf16)
        losses.append(finite_loss(loss, first_step + len(losses)))
        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
    bar.close()
    return losses


def _full_batches(data: dict, batch_size: int, seed: int) -> DataLoader:
    """A loader over the training split: reshuffled every epoch (seeded), full batches only."""
    train = TensorDataset(torch.from_numpy(data["X_train"]), torch.from_numpy(data["y_train"]))
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    if len(loader) == 0:
        raise ValueError(f"train_open_ended: {len(train)} training images is less than one batch "
                         f"of {batch_size}; lower batch_size")
    return loader


def train_open_ended(model: nn.Module, data: dict, epochs: int = 10, batch_size: int = 128,
                     learning_rate: float = 0.4, momentum: float = 0.9, weight_decay: float = 5e-4,
                     label_smoothing: float = 0.2, warmup_frac: float = 0.2, pad: int = 2,
                     device=None, bf16: bool | None = None, max_iters: int | None = None,
                     seed: int = 0) -> dict:
    """Train the open-ended model on the training split; report validation accuracy per epoch.

    Recipe: each batch is augmented (`augment_batch`: random translation by up to `pad` pixels
    and horizontal flips); loss = cross-entropy with label smoothing; SGD with Nesterov
    momentum and weight decay on the conv/linear weights only (`open_ended_optimizer`);
    `one_cycle_lr` schedule per step; bfloat16 autocast and channels-last memory layout
    (oneDNN / tensor-core kernels). Each epoch is `train_epoch` over `open_ended_step`s.

    Inputs:
    - model: e.g. CifarNet(); moved to the device, trained in place
    - data: dict from load_cifar10 (channels first); only X_train/y_train are fitted and
      X_val/y_val are evaluated, X_test is never touched
    - epochs, batch_size, learning_rate (peak), momentum, weight_decay, label_smoothing,
      warmup_frac, pad: the recipe above
    - bf16: None picks `fast_bf16(device)`
    - max_iters: batches per epoch (quick runs); None for all full batches
    - seed: seeds shuffling and augmentation
    Returns history: "loss" and "lr" per iteration, "val_acc" per epoch, "seconds" (training
    wall time), "images_per_second".
    """
    device = _device(device)
    bf16 = fast_bf16(device) if bf16 is None else bf16
    model.to(device).to(memory_format=torch.channels_last)
    loader = _full_batches(data, batch_size, seed)
    aug_gen = torch.Generator(device=device).manual_seed(seed)
    per_epoch = _per_epoch(loader, max_iters)
    total = epochs * per_epoch
    history = {"loss": [], "lr": [], "val_acc": []}
    start = time.perf_counter()
    optimizer = open_ended_optimizer(model, learning_rate, momentum, weight_decay)
    for epoch in range(epochs):
        first = epoch * per_epoch
        lrs = [one_cycle_lr(step, total, learning_rate, warmup_frac)
               for step in range(first, first + per_epoch)]
        batches = augmented_batches(loader, per_epoch, device, pad, aug_gen)
        history["loss"] += train_epoch(model, optimizer, batches, lrs, label_smoothing, bf16, first,
                                       desc=f"epoch {epoch + 1}/{epochs}")
        history["lr"] += lrs
        val_acc = accuracy(model, data["X_val"], data["y_val"], tta=True, device=device, bf16=bf16)
        history["val_acc"].append(val_acc)
        print(f"epoch {epoch + 1}/{epochs}: loss {np.mean(history['loss'][-per_epoch:]):.3f}, "
              f"val acc (flip TTA) {val_acc:.3f}, {time.perf_counter() - start:.0f} s")
    history["seconds"] = time.perf_counter() - start
    history["images_per_second"] = len(history["loss"]) * batch_size / history["seconds"]
    return history


def training_throughput(model: nn.Module, batch_size: int = 256, steps: int = 3, bf16: bool = False,
                        channels_last: bool = True, device=None) -> float:
    """Training speed of a model on random data, in images per second.

    Times `steps` SGD steps (forward, backward, update) on one random (batch_size, 3, 32, 32)
    batch after one untimed warm-up step, and returns batch_size / (median step time).
    The model's weights change; use a throwaway copy.
    """
    device = _device(device)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device).to(memory_format=memory_format).train()
    x = torch.randn(batch_size, 3, 32, 32, device=device).contiguous(memory_format=memory_format)
    y = torch.randint(0, 10, (batch_size,), device=device)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return batch_size / float(np.median(times[1:]))
