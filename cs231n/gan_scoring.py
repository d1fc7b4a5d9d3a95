"""Scores for generated MNIST digits, the same for the PyTorch and the TensorFlow GANs (numpy only).

The course judges its GANs by eye. Here an MNIST classifier (the *scorer*, a small ConvNet
trained by `cs231n.gan_scorer_pytorch` to >= 99% test accuracy) measures them, in numpy, so
both notebooks use the same numbers computed the same way:

- the **classifier score** (the Inception score with an MNIST classifier),
  ``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y) = E_x p(y|x)``: high when each digit is
  classified confidently (sharp ``p(y|x)``) AND the ten classes are equally frequent (flat
  ``p(y)``). Its maximum is 10 (the number of classes); one repeated digit scores 1.
- the **Fréchet distance** (FID with the scorer's features) between the Gaussians fitted to
  the scorer's penultimate features (128 ReLU units) of generated and of real digits,
  ``|mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2})``, the matrix square root from
  ``scipy.linalg.sqrtm``. Lower is better; real digits against other real digits give the floor.

Why numpy: the TensorFlow notebook must not import PyTorch (nor the reverse), and the two
frameworks must be scored by the very same function. The scorer is trained once with PyTorch,
in a separate process (`load_scorer` starts it when the weights are missing); its weights are
cached under build/gan_scorer/ as a pickle-free checkpoint with a SHA-256 file beside it, and a
file whose checksum does not match is refused.
"""
from __future__ import annotations

import os
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.linalg

from cs231n import config, data_utils
from cs231n.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_atomic

VERSION = 1  # bump when the architecture or the recipe changes: the cache file name carries it
NUM_CLASSES = 10
FEATURE_DIM = 128
# The scorer: conv3x3(32, pad 1) - ReLU - maxpool 2 - conv3x3(64, pad 1) - ReLU - maxpool 2 -
# fully connected 3136 -> 128 - ReLU (the features) - fully connected 128 -> 10. Input: pixels
# in [0, 1], mapped to [-1, 1] inside. Keys and (F, C, HH, WW) layouts as PyTorch's state dict.
PARAM_SHAPES: dict[str, tuple[int, ...]] = {
    "conv1.weight": (32, 1, 3, 3), "conv1.bias": (32,),
    "conv2.weight": (64, 32, 3, 3), "conv2.bias": (64,),
    "fc1.weight": (FEATURE_DIM, 64 * 7 * 7), "fc1.bias": (FEATURE_DIM,),
    "fc2.weight": (NUM_CLASSES, FEATURE_DIM), "fc2.bias": (NUM_CLASSES,),
}


class ScorerWeightsError(ValueError):
    """A cached scorer file is corrupt, modified, or not a scorer."""


# --------------------------------------------------------------------------- the two scores

def classifier_score(probs: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities.

    Inputs:
    - probs: (N, K) rows p(y|x) that sum to 1 (softmax outputs)
    Returns a float in [1, K]: K when every row is one-hot and the K classes are equally
    frequent, 1 when every row is the same distribution (e.g. one digit repeated).
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or len(p) == 0:
        raise ValueError(f"classifier_score: probs must be (N, K) with N >= 1, got {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1, atol=1e-4):
        raise ValueError("classifier_score: each row of probs must be a distribution (>= 0, sum 1)")
    p_y = p.mean(axis=0)
    # 0 * log 0 = 0: terms with p(y|x) = 0 contribute nothing (p(y) > 0 wherever p(y|x) > 0).
    terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1)) - np.log(np.where(p_y > 0, p_y, 1))), 0)
    return float(np.exp(terms.sum(axis=1).mean()))


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) (unbiased, float64) of features (N, D), N >= 2."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError(f"feature_statistics: features must be (N, D) with N >= 2, got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
    """Fréchet distance between the Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    d^2 = |mu1 - mu2|^2 + Tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^{1/2})

    Inputs: means (D,) and covariances (D, D). The square root is scipy.linalg.sqrtm; for
    singular covariances (dead features, few samples) sqrtm's warning is silenced; if its
    result is not finite, a tiny multiple of the identity is added to both, as the reference
    FID code does; the negligible imaginary part of the result (round-off) is dropped. Returns d^2 (the number called FID), >= 0 up to round-off.
    """
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    D = mu1.shape[0]
    if mu2.shape != (D,) or s1.shape != (D, D) or s2.shape != (D, D):
        raise ValueError(f"frechet_distance: need means (D,) and covariances (D, D) of one D, got "
                         f"{mu1.shape}, {s1.shape}, {mu2.shape}, {s2.shape}")
    with warnings.catch_warnings():
        # Features that are always 0 (dead ReLU units) make the covariances singular; sqrtm
        # warns but its result is fine, which the checks below verify instead.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)):
            offset = np.eye(D) * 1e-6
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        if np.max(np.abs(covmean.imag)) > 1e-3 * max(1.0, np.max(np.abs(covmean.real))):
            raise ValueError("frechet_distance: the matrix square root has a large imaginary "
                             "part; are sigma1 and sigma2 covariance matrices?")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# --------------------------------------------------------------------------- the scorer network

def as_digit_images(images) -> np.ndarray:
    """Images as (N, 28, 28) float32 pixels in [0, 1].

    Accepts (N, 784), (N, 28, 28), (N, 1, 28, 28) or (N, 28, 28, 1) arrays of floats in
    [0, 1] (generator outputs in [-1, 1] must go through deprocess_img first), or uint8 0..255.
    """
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype(np.float32) / 255
    N = x.shape[0] if x.ndim else 0
    if x.ndim == 0 or x.size != N * 784:
        raise ValueError(f"scorer: expected MNIST images (N, 784), (N, 28, 28), (N, 1, 28, 28) or "
                         f"(N, 28, 28, 1), got shape {x.shape}")
    x = x.reshape(N, 28, 28).astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise ValueError("scorer: the images contain NaN or infinite values")
    if N and (x.min() < -1e-3 or x.max() > 1 + 1e-3):
        raise ValueError(f"scorer: pixel values must be in [0, 1], got [{x.min():.3g}, "
                         f"{x.max():.3g}]; map generator outputs in [-1, 1] with deprocess_img")
    return np.clip(x, 0, 1)


def _conv3x3_relu_pool(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """conv 3x3 (pad 1, stride 1) - ReLU - max pool 2x2, channels last.

    x (N, H, W, C), w (F, C, 3, 3), b (F,) -> (N, H/2, W/2, F). The convolution is one matmul:
    the nine shifted copies of the padded input side by side (N*H*W, 9*C), ordered (row, column,
    channel), times the filters in the same order (9*C, F).
    """
    N, H, W, C = x.shape
    F = w.shape[0]
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.concatenate([padded[:, i:i + H, j:j + W, :] for i in range(3) for j in range(3)],
                          axis=-1)                                        # (N, H, W, 9*C)
    out = cols.reshape(N * H * W, 9 * C) @ w.transpose(0, 2, 3, 1).reshape(F, 9 * C).T + b
    out = np.maximum(out, 0).reshape(N, H // 2, 2, W // 2, 2, F)
    return out.max(axis=(2, 4))


def scorer_forward(params: dict[str, np.ndarray], images, batch_size: int = 500
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The scorer network in numpy (float32), the same function as `ScorerNet.forward`.

    Inputs:
    - params: arrays of PARAM_SHAPES (PyTorch layouts)
    - images: N digits, see `as_digit_images`
    - batch_size: images per chunk (bounds the memory of the window matrices)
    Returns logits (N, 10) and features (N, 128), the penultimate ReLU activations.
    """
    x = as_digit_images(images)
    p = {k: np.asarray(params[k], np.float32) for k in PARAM_SHAPES}
    logits, feats = [], []
    for i in range(0, len(x), batch_size):
        h = x[i:i + batch_size, :, :, None] * 2 - 1                       # (B, 28, 28, 1)
        h = _conv3x3_relu_pool(h, p["conv1.weight"], p["conv1.bias"])      # (B, 14, 14, 32)
        h = _conv3x3_relu_pool(h, p["conv2.weight"], p["conv2.bias"])      # (B, 7, 7, 64)
        h = h.transpose(0, 3, 1, 2).reshape(len(h), -1)                  # PyTorch's (C, H, W) order
        f = np.maximum(h @ p["fc1.weight"].T + p["fc1.bias"], 0)
        feats.append(f)
        logits.append(f @ p["fc2.weight"].T + p["fc2.bias"])
    if not logits:
        return np.zeros((0, NUM_CLASSES), np.float32), np.zeros((0, FEATURE_DIM), np.float32)
    return np.concatenate(logits), np.concatenate(feats)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (N, K) -> (N, K) in float64, shifted by the row maximum for stability."""
    z = np.asarray(logits, np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


@dataclass
class MnistScorer:
    """The trained scorer: `score` gives the classifier score and the Fréchet distance.

    - params: the network's arrays (PARAM_SHAPES)
    - meta: how it was trained (data, sizes, epochs, seed, test accuracy, seconds)
    - reference: (mu, sigma) of the real digits that Fréchet distances are measured against;
      set it with `set_reference` (the notebooks use the MNIST test digits)
    """
    params: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)
    reference: tuple[np.ndarray, np.ndarray] | None = None

    def logits_and_features(self, images) -> tuple[np.ndarray, np.ndarray]:
        """Logits (N, 10) and penultimate features (N, 128) of N digits in [0, 1]."""
        return scorer_forward(self.params, images)

    def predict(self, images) -> np.ndarray:
        """Predicted classes (N,) of N digits."""
        return self.logits_and_features(images)[0].argmax(axis=1)

    def accuracy(self, images, labels) -> float:
        """Fraction of digits classified as their label."""
        return float(np.mean(self.predict(images) == np.asarray(labels)))

    def set_reference(self, real_images) -> None:
        """Fit the Gaussian of the real digits' features that `score` compares with."""
        self.reference = feature_statistics(self.logits_and_features(real_images)[1])

    def score(self, images) -> dict[str, float]:
        """{"classifier_score": ..., "frechet_distance": ...} of N >= 2 digits in [0, 1].

        The Fréchet distance needs `set_reference` first (else it is left out). Both scores
        depend on N (the distance is biased upward for small N): compare equal N only.
        """
        logits, features = self.logits_and_features(images)
        result = {"classifier_score": classifier_score(softmax(logits))}
        if self.reference is not None:
            result["frechet_distance"] = frechet_distance(*feature_statistics(features),
                                                          *self.reference)
        return result


# --------------------------------------------------------------------------- cache and training

def default_cache_dir() -> Path:
    """build/gan_scorer/ in the repository (ignored by git)."""
    return config.REPO_ROOT / "build" / "gan_scorer"


def checksum_path(path: Path) -> Path:
    """The file beside a scorer file that holds its SHA-256 (path + '.sha256')."""
    return path.with_name(path.name + ".sha256")


def write_scorer(path: str | Path, params: dict[str, np.ndarray], meta: dict) -> None:
    """Save a scorer as a pickle-free checkpoint (`cs231n.checkpoint`) and its SHA-256 beside it.

    Both files are written atomically; the checksum goes last, so a scorer file without a
    matching checksum is never taken for a complete one.
    """
    path = Path(path)
    _check_params(params, str(path))
    save_checkpoint(path, {"params": {k: np.asarray(params[k], np.float32) for k in PARAM_SHAPES},
                           "meta": meta, "version": VERSION})
    text = f"{data_utils.sha256_of(path)}  {path.name}\n".encode()
    write_atomic(checksum_path(path), lambda f: f.write(text))


def read_scorer(path: str | Path) -> MnistScorer:
    """Read a scorer written by `write_scorer`, after checking its SHA-256.

    Raises ScorerWeightsError naming the file and the fix when the checksum file is missing
    or does not match, or when the file is not a scorer of this version.
    """
    path = Path(path)
    fix = (f"Delete it (rm {path} {checksum_path(path)}) and load the scorer again: it is "
           "retrained (a few minutes).")
    if not checksum_path(path).is_file():
        raise ScorerWeightsError(f"{path}: no checksum file {checksum_path(path).name} beside it. {fix}")
    expected = checksum_path(path).read_text().split()[:1]
    if expected != [data_utils.sha256_of(path)]:
        raise ScorerWeightsError(f"{path}: checksum mismatch (the scorer's weights are corrupt or "
                                 f"were modified). {fix}")
    try:
        state = load_checkpoint(path)
    except CheckpointError as e:
        raise ScorerWeightsError(f"{e} {fix}") from e
    if not isinstance(state, dict) or state.get("version") != VERSION or "params" not in state:
        raise ScorerWeightsError(f"{path} is not a scorer of version {VERSION}. {fix}")
    _check_params(state["params"], str(path), ScorerWeightsError)
    return MnistScorer(params=state["params"], meta=state.get("meta", {}))


def _check_params(params: dict, where: str, error: type[Exception] = ValueError) -> None:
    for key, shape in PARAM_SHAPES.items():
        if key not in params or np.shape(params[key]) != shape:
            found = np.shape(params[key]) if key in params else "missing"
            raise error(f"{where}: scorer parameter {key} should have shape {shape}, got {found}")


def default_epochs() -> int:
    """Training epochs of the scorer: 3 (>= 99% test accuracy on full MNIST), 1 in quick mode."""
    return config.quick(3, 1)


def load_scorer(epochs: int | None = None, seed: int = 0, cache_dir: str | Path | None = None,
                train_if_missing: bool = True) -> MnistScorer:
    """The MNIST scorer for the MNIST copy in use (full data, else the embedded bundle).

    Inputs:
    - epochs: training epochs (default `default_epochs()`)
    - seed: seeds the initialization and the order of the training digits
    - cache_dir: where trained scorers are kept (default build/gan_scorer/)
    - train_if_missing: train it (PyTorch, in a separate process, deterministic: one thread,
      fixed seeds) when no cached file exists; else raise FileNotFoundError
    The file name records the version, the data (full / mini), the epochs and the seed, so
    each recipe has its own file. Prints one line: where it came from and its test accuracy.
    """
    epochs = default_epochs() if epochs is None else epochs
    root, source = data_utils.find_dataset(data_utils.MNIST_DIR, data_utils.MINI_MNIST, "MNIST",
                                           key=data_utils.MNIST_FILES[0])
    path = (Path(cache_dir) if cache_dir else default_cache_dir()) / (
        f"mnist_scorer_v{VERSION}_{source}_{epochs}ep_seed{seed}.ckpt.npz")
    if not path.exists():
        if not train_if_missing:
            raise FileNotFoundError(f"no trained scorer at {path}; call load_scorer() to train one")
        train_scorer_subprocess(root, path, epochs, seed)
    scorer = read_scorer(path)
    m = scorer.meta
    print(f"MNIST scorer: {path.name}, trained on {m.get('num_train')} digits for {m.get('epochs')} "
          f"epochs, test accuracy {m.get('test_acc', float('nan')):.4f} on {m.get('num_test')} digits")
    return scorer


def train_scorer_subprocess(mnist_root: str | Path, out: str | Path, epochs: int, seed: int) -> None:
    """Train the scorer with PyTorch in a new Python process (`python -m cs231n.gan_scorer_pytorch`)
    and write it to `out`. Its output lines are passed on as they come.

    A separate process keeps PyTorch out of the caller: the TensorFlow notebook uses this too.
    Raises RuntimeError with the end of its output if the training fails.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(config.REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    cmd = [sys.executable, "-m", "cs231n.gan_scorer_pytorch", "--mnist", str(mnist_root),
           "--out", str(out), "--epochs", str(epochs), "--seed", str(seed)]
    print(f"training the MNIST scorer ({epochs} epochs, PyTorch in a separate process) ...")
    lines = []
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, cwd=config.REPO_ROOT) as proc:
        for line in proc.stdout:
            lines.append(line.rstrip())
            if line.startswith("scorer"):
                print(line.rstrip())
    if proc.returncode != 0:
        raise RuntimeError("training the MNIST scorer failed:\n" + "\n".join(lines[-30:]))
