"""First-order update rules, as the course defines them.

Each rule has the interface

    next_w, config = update(w, dw, config=None)

Inputs:
- w: array of any shape, the current weights
- dw: array of the same shape as w, the gradient of the loss with respect to w
- config: dict of hyperparameters (learning rate, ...) and of the state the rule
  carries between steps (velocity, cache, moments). Missing entries get defaults.

Returns:
- next_w: the weights after one step (a new array; w is not modified)
- config: the same dict, holding the updated state for the next step

The Solver keeps one config dict per parameter, so state is never shared.
"""
from __future__ import annotations

import numpy as np

# The config keys each rule reads: its hyperparameters, then its state. The Solver
# accepts exactly these keys in optim_config (a typo is an error, not a default).
OPTIM_KEYS = {
    "sgd": ("learning_rate",),
    "sgd_momentum": ("learning_rate", "momentum", "velocity"),
    "rmsprop": ("learning_rate", "decay_rate", "epsilon", "cache"),
    "adam": ("learning_rate", "beta1", "beta2", "epsilon", "m", "v", "t"),
}


def _start(w: np.ndarray, dw: np.ndarray, config: dict | None, rule: str) -> dict:
    if np.shape(w) != np.shape(dw):
        raise ValueError(f"{rule}: w has shape {np.shape(w)} but dw has shape {np.shape(dw)}; "
                         "pass the gradient of this parameter")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise TypeError(f"{rule}: config must be a dict or None, got {type(config).__name__}")
    return config


def sgd(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Vanilla stochastic gradient descent: next_w = w - learning_rate * dw.

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    """
    config = _start(w, dw, config, "sgd")
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config


def sgd_momentum(w: np.ndarray, dw: np.ndarray,
                 config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Stochastic gradient descent with momentum:
        v = momentum * v - learning_rate * dw,   next_w = w + v

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - momentum: scalar in [0, 1] (default 0.9); 0 gives plain sgd
    - velocity: array of the same shape as w and dw, a moving average of the
      gradients (default zeros)
    """
    config = _start(w, dw, config, "sgd_momentum")
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    next_w = None
    ###########################################################################
    # TODO: Implement the momentum update: first the velocity,                #
    # v = momentum * v - learning_rate * dw, then next_w = w + v. Store the   #
    # new weights in next_w and the new velocity in v (the line after the     #
    # block keeps it in config).                                              #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    config["velocity"] = v
    return next_w, config


def rmsprop(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """RMSProp: a per-parameter learning rate from a moving average of squared gradients:
        cache = decay_rate * cache + (1 - decay_rate) * dw**2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config format:
    - learning_rate: scalar learning rate (default 1e-2)
    - decay_rate: scalar in [0, 1], decay of the squared-gradient cache (default 0.99)
    - epsilon: small scalar that avoids dividing by zero (default 1e-8)
    - cache: moving average of the second moments of the gradients (default zeros)
    """
    config = _start(w, dw, config, "rmsprop")
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))
    next_w = None
    ###########################################################################
    # TODO: Implement the RMSProp update: update the moving average of the    #
    # squared gradient in config["cache"], then move w by learning_rate * dw  #
    # divided by (sqrt(cache) + epsilon), elementwise. Store the new weights  #
    # in next_w; the cache stays in config for the next step.                 #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    decay = config["decay_rate"]
    config["cache"] = decay * config["cache"] + (1 - decay) * dw**2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_w, config


def adam(w: np.ndarray, dw: np.ndarray, config: dict | None = None) -> tuple[np.ndarray, dict]:
    """Adam: moving averages of the gradient and its square, with bias correction.
    The step counter t is incremented BEFORE use, so the first step has t = 1:
        t += 1
        m = beta1 * m + (1 - beta1) * dw,       mt = m / (1 - beta1**t)
        v = beta2 * v + (1 - beta2) * dw**2,    vt = v / (1 - beta2**t)
        next_w = w - learning_rate * mt / (sqrt(vt) + epsilon)

    config format:
    - learning_rate: scalar learning rate (default 1e-3)
    - beta1: decay rate of the first moment (default 0.9)
    - beta2: decay rate of the second moment (default 0.999)
    - epsilon: small scalar that avoids dividing by zero (default 1e-8)
    - m: moving average of the gradient (default zeros)
    - v: moving average of the squared gradient (default zeros)
    - t: iteration number (default 0)
    """
    config = _start(w, dw, config, "adam")
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)
    next_w = None
    ###########################################################################
    # TODO: Implement the Adam update with bias correction. Increment         #
    # config["t"] first (the first step has t = 1); update the moving         #
    # averages config["m"] of dw and config["v"] of dw**2; correct them,      #
    # m / (1 - beta1**t) and v / (1 - beta2**t); then move w by               #
    # learning_rate * m_corrected / (sqrt(v_corrected) + epsilon). Store the  #
    # new weights in next_w; m, v and t stay in config.                       #
    ###########################################################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    beta1, beta2 = config["beta1"], config["beta2"]
    config["t"] += 1
    t = config["t"]
    config["m"] = beta1 * config["m"] + (1 - beta1) * dw
    config["v"] = beta2 * config["v"] + (1 - beta2) * dw**2
    m_hat = config["m"] / (1 - beta1**t)
    v_hat = config["v"] / (1 - beta2**t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    return next_w, config
