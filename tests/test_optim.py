"""cs231n.optim: the course's expected steps, hand-computed steps, and torch.optim."""
import numpy as np
import pytest
import torch

from cs231n.gradient_check import rel_error
from cs231n.optim import adam, rmsprop, sgd, sgd_momentum

pytestmark = pytest.mark.a2

N, D = 4, 5


def course_inputs():
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    return w, dw


def test_sgd_hand_computed_and_does_not_modify_w():
    w, dw = course_inputs()
    w0 = w.copy()
    next_w, config = sgd(w, dw, {"learning_rate": 1e-3})
    assert np.allclose(next_w, w0 - 1e-3 * dw, rtol=0, atol=1e-15)
    assert next_w[0, 0] == pytest.approx(-0.3994)
    assert np.array_equal(w, w0)
    _, config = sgd(w, dw)
    assert config == {"learning_rate": 1e-2}


def test_sgd_momentum_course_values():
    w, dw = course_inputs()
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-3, "velocity": v}
    next_w, _ = sgd_momentum(w, dw, config=config)
    expected_next_w = np.asarray([
        [0.1406, 0.20738947, 0.27417895, 0.34096842, 0.40775789],
        [0.47454737, 0.54133684, 0.60812632, 0.67491579, 0.74170526],
        [0.80849474, 0.87528421, 0.94207368, 1.00886316, 1.07565263],
        [1.14244211, 1.20923158, 1.27602105, 1.34281053, 1.4096]])
    expected_velocity = np.asarray([
        [0.5406, 0.55475789, 0.56891579, 0.58307368, 0.59723158],
        [0.61138947, 0.62554737, 0.63970526, 0.65386316, 0.66802105],
        [0.68217895, 0.69633684, 0.71049474, 0.72465263, 0.73881053],
        [0.75296842, 0.76712632, 0.78128421, 0.79544211, 0.8096]])
    assert rel_error(next_w, expected_next_w) < 1e-8
    assert rel_error(config["velocity"], expected_velocity) < 1e-8


def test_sgd_momentum_two_steps_by_hand():
    w, g = np.array([1.0, -2.0]), np.array([0.5, 1.0])
    config = {"learning_rate": 0.1, "momentum": 0.5}
    w1, config = sgd_momentum(w, g, config)          # v = -0.1 g
    w2, config = sgd_momentum(w1, g, config)         # v = 0.5 (-0.1 g) - 0.1 g = -0.15 g
    assert np.allclose(w1, w - 0.1 * g)
    assert np.allclose(config["velocity"], -0.15 * g)
    assert np.allclose(w2, w - 0.25 * g)


def test_rmsprop_course_values():
    w, dw = course_inputs()
    cache = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "cache": cache}
    next_w, _ = rmsprop(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.39223849, -0.34037513, -0.28849239, -0.23659121, -0.18467247],
        [-0.132737, -0.08078555, -0.02881884, 0.02316247, 0.07515774],
        [0.12716641, 0.17918792, 0.23122175, 0.28326742, 0.33532447],
        [0.38739248, 0.43947102, 0.49155973, 0.54365823, 0.59576619]])
    expected_cache = np.asarray([
        [0.5976, 0.6126277, 0.6277108, 0.64284931, 0.65804321],
        [0.67329252, 0.68859723, 0.70395734, 0.71937285, 0.73484377],
        [0.75037008, 0.7659518, 0.78158892, 0.79728144, 0.81302936],
        [0.82883269, 0.84469141, 0.86060554, 0.87657507, 0.8926]])
    assert rel_error(next_w, expected_next_w) < 1e-7
    assert rel_error(config["cache"], expected_cache) < 1e-8


def test_rmsprop_first_step_by_hand():
    w, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, -4.0, 1e-3])
    next_w, config = rmsprop(w, g, {"learning_rate": 1e-2})
    # cache = 0.01 g^2, so the step is lr * g / (0.1 |g| + eps) = 0.1 sign(g)
    assert np.allclose(config["cache"], 0.01 * g**2)
    assert np.allclose(next_w, w - 0.1 * np.sign(g), atol=1e-6)


def test_adam_course_values():
    w, dw = course_inputs()
    m = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    v = np.linspace(0.7, 0.5, num=N * D).reshape(N, D)
    config = {"learning_rate": 1e-2, "m": m, "v": v, "t": 5}
    next_w, _ = adam(w, dw, config=config)
    expected_next_w = np.asarray([
        [-0.40094747, -0.34836187, -0.29577703, -0.24319299, -0.19060977],
        [-0.1380274, -0.08544591, -0.03286534, 0.01971428, 0.0722929],
        [0.1248705, 0.17744702, 0.23002243, 0.28259667, 0.33516969],
        [0.38774145, 0.44031188, 0.49288093, 0.54544852, 0.59801459]])
    expected_v = np.asarray([
        [0.69966, 0.68908382, 0.67851319, 0.66794809, 0.65738853],
        [0.64683452, 0.63628604, 0.6257431, 0.61520571, 0.60467385],
        [0.59414753, 0.58362676, 0.57311152, 0.56260183, 0.55209767],
        [0.54159906, 0.53110598, 0.52061845, 0.51013645, 0.49966]])
    expected_m = np.asarray([
        [0.48, 0.49947368, 0.51894737, 0.53842105, 0.55789474],
        [0.57736842, 0.59684211, 0.61631579, 0.63578947, 0.65526316],
        [0.67473684, 0.69421053, 0.71368421, 0.73315789, 0.75263158],
        [0.77210526, 0.79157895, 0.81105263, 0.83052632, 0.85]])
    # 1.14e-07, as the course's notebook prints: the expected values are rounded to 8
    # decimals, and 0.01971428 is small (the five-step torch test below checks to 1e-12)
    assert rel_error(next_w, expected_next_w) < 2e-7
    assert rel_error(config["v"], expected_v) < 1e-8
    assert rel_error(config["m"], expected_m) < 1e-8
    assert config["t"] == 6


def test_adam_first_step_is_bias_corrected():
    w, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, -4.0, 1e-3])
    next_w, config = adam(w, g)            # defaults: lr 1e-3, t incremented to 1 before use
    assert config["t"] == 1
    # bias correction makes m_hat = g and v_hat = g^2, so the step is lr * sign(g)
    assert np.allclose(next_w, w - 1e-3 * np.sign(g), atol=1e-8)
    assert np.allclose(config["m"], 0.1 * g) and np.allclose(config["v"], 0.001 * g**2)


@pytest.mark.parametrize("rule,make_torch", [
    (sgd_momentum, lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9)),
    (rmsprop, lambda p: torch.optim.RMSprop([p], lr=0.05, alpha=0.99, eps=1e-8)),
    (adam, lambda p: torch.optim.Adam([p], lr=0.05, betas=(0.9, 0.999), eps=1e-8)),
])
def test_five_steps_match_torch_optim(rule, make_torch):
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 4))
    grads = rng.standard_normal((5, 3, 4))
    p = torch.tensor(w, requires_grad=True)
    opt = make_torch(p)
    config = {"learning_rate": 0.05}
    for g in grads:
        w, config = rule(w, g, config)
        p.grad = torch.tensor(g)
        opt.step()
    assert rel_error(w, p.detach().numpy()) < 1e-12


@pytest.mark.parametrize("rule", [sgd, sgd_momentum, rmsprop, adam])
def test_float32_stays_float32_and_shape_mismatch_is_clear(rule):
    w = np.ones((2, 3), dtype=np.float32)
    next_w, _ = rule(w, np.ones((2, 3), dtype=np.float32))
    next_w, _ = rule(next_w, np.ones((2, 3), dtype=np.float32), _)
    assert next_w.dtype == np.float32
    with pytest.raises(ValueError, match=r"w has shape \(2, 3\) but dw has shape \(3, 2\)"):
        rule(w, np.ones((3, 2)))
