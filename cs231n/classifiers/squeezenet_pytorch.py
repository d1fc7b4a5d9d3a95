"""SqueezeNet 1.1 in PyTorch, with torchvision's layer layout and state-dict keys (no torchvision).

    features   0 conv 3->64 (3x3, stride 2)   1 ReLU   2 max pool (3x3, stride 2, ceil mode)
               3 Fire(64, 16, 64, 64)   4 Fire(128, 16, 64, 64)   5 max pool
               6 Fire(128, 32, 128, 128)   7 Fire(256, 32, 128, 128)   8 max pool
               9 Fire(256, 48, 192, 192)  10 Fire(384, 48, 192, 192)
              11 Fire(384, 64, 256, 256)  12 Fire(512, 64, 256, 256)
    classifier 0 Dropout(0.5)   1 conv 512->1000 (1x1)   2 ReLU   3 global average pool

A Fire module squeezes with 1x1 convolutions, then expands with 1x1 and 3x3 convolutions side
by side and concatenates them along channels. Input: (N, 3, H, W) float32, RGB in [0, 1]
normalized by the ImageNet mean/std (`to_tensor` does it from uint8 images).

Unlike torchvision, the ReLUs are not in-place, so every output kept by `extract_features` is
the value the layer produced (torchvision's in-place ReLU overwrites the conv output).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from cs231n.classifiers.squeezenet_weights import (
    CLASSIFIER_IN,
    FEATURE_LAYERS,
    NUM_CLASSES,
    load_squeezenet_weights,
    preprocess_batch,
)


class Fire(nn.Module):
    """squeeze (1x1) + ReLU, then [expand1x1 + ReLU, expand3x3 + ReLU] concatenated.

    (N, inplanes, H, W) -> (N, expand1x1_planes + expand3x3_planes, H, W)
    """

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int):
        super().__init__()
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU()
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU()
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return torch.cat([self.expand1x1_activation(self.expand1x1(x)),
                          self.expand3x3_activation(self.expand3x3(x))], dim=1)


def _feature_layer(spec: tuple) -> nn.Module:
    kind = spec[0]
    if kind == "conv":
        return nn.Conv2d(spec[1], spec[2], kernel_size=3, stride=2)
    if kind == "relu":
        return nn.ReLU()
    if kind == "pool":
        return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)
    return Fire(*spec[1:])


class SqueezeNet(nn.Module):
    """SqueezeNet 1.1: (N, 3, H, W) normalized images -> (N, 1000) class scores (logits).

    `features` and `classifier` are nn.Sequential stacks with torchvision's indices, so the
    state dict has torchvision's keys. Any H, W >= 17 works (224 for ImageNet).
    """

    def __init__(self, num_classes: int = NUM_CLASSES):
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(*[_feature_layer(spec) for spec in FEATURE_LAYERS])
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Conv2d(CLASSIFIER_IN, num_classes, kernel_size=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d((1, 1)),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"SqueezeNet expects (N, 3, H, W) images, got shape {tuple(x.shape)}")
        return torch.flatten(self.classifier(self.features(x)), 1)


def load_pretrained_squeezenet(path: str | Path | None = None) -> SqueezeNet:
    """SqueezeNet 1.1 with the ImageNet weights, frozen (no parameter requires grad), eval mode.

    Inputs:
    - path: the weight .npz; None looks in $CS231N_DATA, datasets/, then datasets/mini/.
    Missing or corrupt weights raise a clear error naming the file and the fix.
    """
    weights = load_squeezenet_weights(path)
    model = SqueezeNet()
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=True)
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def to_tensor(images: np.ndarray, device=None) -> torch.Tensor:
    """uint8 RGB images (N, H, W, 3) -> normalized float32 tensor (N, 3, H, W) on device."""
    x = preprocess_batch(images).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(x)).to(device or "cpu")


def extract_features(x: torch.Tensor, cnn: nn.Module) -> list[torch.Tensor]:
    """The output of every layer of the feature extractor, in order (the course's signature).

    Inputs:
    - x: (N, 3, H, W) normalized images
    - cnn: a SqueezeNet, or its `features` stack (the course passes ``model.features``)
    Returns a list of 13 tensors; features[i] (N, C_i, H_i, W_i) is the output of features.i,
    e.g. at 224x224: [0] (N, 64, 111, 111), [3] (N, 128, 55, 55), [12] (N, 512, 13, 13).
    """
    layers = cnn.features if isinstance(cnn, SqueezeNet) else cnn
    feats = []
    for layer in layers:
        x = layer(x)
        feats.append(x)
    return feats


def count_parameters(model: nn.Module) -> int:
    """Total number of scalars in the model's parameters (SqueezeNet 1.1: 1,235,496)."""
    return sum(p.numel() for p in model.parameters())
