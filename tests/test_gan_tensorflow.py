"""GANs in TensorFlow / Keras: the course's checks, the losses against float64 formulas and
against PyTorch, the same networks as PyTorch's (weights copied over, outputs compared), one D
step and one G step moving their losses the right way, the training loop, and the module not
importing PyTorch."""
import os
import subprocess
import sys

import numpy as np
import pytest

from cs231n import config, data_utils, gan_utils

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
T = pytest.importorskip("cs231n.gan_tensorflow")
tf, keras = T.tf, T.keras

pytestmark = pytest.mark.a3


@pytest.fixture(autouse=True)
def _seed_tf():
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="module")
def checks():
    return data_utils.load_check_file("gan-checks-tf.npz")


# --------------------------------------------------------------------------- the course's checks

def test_parameter_counts():
    assert T.count_params(T.discriminator()) == 267_009
    assert T.count_params(T.generator(4)) == 1_858_320
    assert T.count_params(T.build_dc_classifier()) == 1_102_721
    G = T.build_dc_generator(4)
    assert T.count_params(G) == 6_580_801
    # What the 2018 notebook counted: every variable, batch-norm moving statistics included.
    assert T.count_params(G, trainable_only=False) == 6_595_521 == 6_580_801 + 2 * (1024 + 6272 + 64)


def test_losses_and_leaky_relu_match_the_course_check_file(checks):
    real, fake = tf.constant(checks["logits_real"]), tf.constant(checks["logits_fake"])
    for value, expected in ((T.discriminator_loss(real, fake), checks["d_loss_true"]),
                            (T.generator_loss(fake), checks["g_loss_true"]),
                            (T.ls_discriminator_loss(real, fake), checks["d_loss_lsgan_true"]),
                            (T.ls_generator_loss(fake), checks["g_loss_lsgan_true"])):
        assert value.dtype == tf.float64
        assert T.rel_error(value.numpy(), expected) < 1e-7
    assert T.rel_error(T.leaky_relu(tf.constant(checks["lrelu_x"])).numpy(), checks["lrelu_y"]) < 1e-7
    d, g = T.gan_loss(real, fake)
    assert T.rel_error(d.numpy(), checks["d_loss_true"]) < 1e-7
    assert T.rel_error(g.numpy(), checks["g_loss_true"]) < 1e-7
    d, g = T.lsgan_loss(real, fake)
    assert T.rel_error(d.numpy(), checks["d_loss_lsgan_true"]) < 1e-7
    assert T.rel_error(g.numpy(), checks["g_loss_lsgan_true"]) < 1e-7


def test_losses_against_float64_formulas_and_large_logits():
    rng = np.random.default_rng(0)
    r, f = rng.normal(0, 3, (16, 1)), rng.normal(0, 3, (16, 1))
    sig = lambda s: 1 / (1 + np.exp(-s))
    np.testing.assert_allclose(T.discriminator_loss(r, f).numpy(),
                               -np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f))), rtol=1e-12)
    np.testing.assert_allclose(T.generator_loss(f).numpy(), -np.mean(np.log(sig(f))), rtol=1e-12)
    np.testing.assert_allclose(T.ls_discriminator_loss(r, f).numpy(),
                               0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2), rtol=1e-12)
    np.testing.assert_allclose(T.ls_generator_loss(f).numpy(), 0.5 * np.mean((f - 1) ** 2), rtol=1e-12)
    s = tf.constant([-1000.0, 0.0, 1000.0], tf.float64)
    np.testing.assert_allclose(T.bce_loss(s, tf.ones_like(s)).numpy(), (1000 + np.log(2)) / 3, rtol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        T.bce_loss(tf.zeros((4, 1)), tf.zeros((4,)))


def test_losses_agree_with_pytorch():
    torch = pytest.importorskip("torch")
    P = pytest.importorskip("cs231n.gan_pytorch")
    rng = np.random.default_rng(1)
    r, f = rng.normal(0, 4, (64, 1)).astype(np.float32), rng.normal(0, 4, (64, 1)).astype(np.float32)
    tr, tfk = torch.from_numpy(r), torch.from_numpy(f)
    pairs = [(P.discriminator_loss(tr, tfk), T.discriminator_loss(r, f)),
             (P.generator_loss(tfk), T.generator_loss(f)),
             (P.ls_discriminator_loss(tr, tfk), T.ls_discriminator_loss(r, f)),
             (P.ls_generator_loss(tfk), T.ls_generator_loss(f))]
    for a, b in pairs:
        assert T.rel_error(a.item(), b.numpy()) < 1e-5


# --------------------------------------------------------------------------- same networks as PyTorch

def copy_torch_weights(torch_model, keras_model, chw=None):
    """Set keras_model's weights from torch_model's, layer by layer.

    chw: {index of a torch layer with parameters: (C, H, W)} for the layers next to a flatten
    or unflatten: a Linear whose INPUT is a flattened (C, H, W) map (the DC classifier), or a
    Linear / BatchNorm1d whose OUTPUT is unflattened to (C, H, W) (the DC generator). PyTorch
    orders those features (C, H, W), TensorFlow (H, W, C).
    """
    torch_layers = [m for m in torch_model if list(m.parameters())]
    keras_layers = [layer for layer in keras_model.layers if layer.weights]
    assert len(torch_layers) == len(keras_layers)
    chw = chw or {}

    def hwc(a, shape, axis):  # reorder one axis of a from (C, H, W) order to (H, W, C) order
        a = np.moveaxis(a, axis, 0)
        a = a.reshape(shape + a.shape[1:]).transpose(1, 2, 0, *range(3, a.ndim + 2))
        return np.moveaxis(a.reshape((-1,) + a.shape[3:]), 0, axis)

    for i, (m, layer) in enumerate(zip(torch_layers, keras_layers, strict=True)):
        kind = type(m).__name__
        state = {k: v.detach().numpy() for k, v in m.state_dict().items()}
        if kind in ("Conv2d", "ConvTranspose2d"):
            weights = [state["weight"].transpose(2, 3, 1, 0), state["bias"]]
        elif kind == "Linear":
            kernel, bias = state["weight"].T, state["bias"]
            if i in chw and kernel.shape[0] == np.prod(chw[i]):     # input is a flattened map
                kernel = hwc(kernel, chw[i], 0)
            elif i in chw:                                           # output is unflattened
                kernel, bias = hwc(kernel, chw[i], 1), hwc(bias, chw[i], 0)
            weights = [kernel, bias]
        else:                                                        # BatchNorm
            weights = [state[k] for k in ("weight", "bias", "running_mean", "running_var")]
            if i in chw:
                weights = [hwc(w, chw[i], 0) for w in weights]
        layer.set_weights(weights)


@pytest.mark.parametrize("name", ["discriminator", "generator", "dc_classifier", "dc_generator"])
def test_same_networks_as_pytorch(name):
    torch = pytest.importorskip("torch")
    P = pytest.importorskip("cs231n.gan_pytorch")
    torch.manual_seed(0)
    build = {"discriminator": (P.discriminator, T.discriminator, {}, 784),
             "generator": (P.generator, T.generator, {}, 96),
             "dc_classifier": (P.build_dc_classifier, T.build_dc_classifier, {2: (64, 4, 4)}, 784),
             "dc_generator": (P.build_dc_generator, T.build_dc_generator,
                              {2: (128, 7, 7), 3: (128, 7, 7)}, 96)}
    make_torch, make_keras, chw, in_dim = build[name]
    tm, km = make_torch(), make_keras()
    if name == "dc_generator":  # non-trivial batch-norm statistics, to compare both modes
        with torch.no_grad():
            tm(torch.rand(64, 96) * 2 - 1)
    copy_torch_weights(tm, km, chw)
    assert P.count_params(tm) == T.count_params(km)
    x = np.random.default_rng(0).uniform(-1, 1, (32, in_dim)).astype(np.float32)
    for training in (False, True):
        tm.train(training)
        with torch.no_grad():
            expected = tm(torch.from_numpy(x)).numpy()
        got = km(x, training=training).numpy()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


# --------------------------------------------------------------------------- one step each

@pytest.mark.parametrize("variant", ["vanilla", "lsgan", "dcgan"])
def test_one_d_step_and_one_g_step_move_their_losses_the_right_way(variant):
    build_d, build_g = ((T.build_dc_classifier, T.build_dc_generator) if variant == "dcgan"
                        else (T.discriminator, T.generator))
    d_loss_fn, g_loss_fn = ((T.ls_discriminator_loss, T.ls_generator_loss) if variant == "lsgan"
                            else (T.discriminator_loss, T.generator_loss))
    D, G = build_d(), build_g()
    real = T.preprocess_img(gan_utils.mnist_images("train", 64))
    z = T.sample_noise(64, 96, seed=1)
    D_solver, G_solver = T.get_optimizer(D), T.get_optimizer(G)
    assert float(D_solver.learning_rate) == pytest.approx(1e-3) and D_solver.beta_1 == 0.5
    # A small step: Adam's first step moves every weight by about lr at once, and at 1e-3 the
    # unbounded least-squares scores of a freshly initialized D can overshoot on one batch.
    for solver in (D_solver, G_solver):
        solver.learning_rate.assign(1e-5)

    def d_loss():
        return d_loss_fn(D(real, training=True), D(G(z, training=True), training=True))

    with tf.GradientTape() as tape:
        before = d_loss()
    D_solver.apply_gradients(zip(tape.gradient(before, D.trainable_variables), D.trainable_variables,
                                 strict=True))
    assert float(d_loss()) < float(before)

    g_loss = lambda: g_loss_fn(D(G(z, training=True), training=True))
    with tf.GradientTape() as tape:
        g_before = g_loss()
    G_solver.apply_gradients(zip(tape.gradient(g_before, G.trainable_variables), G.trainable_variables,
                                 strict=True))
    assert float(g_loss()) < float(g_before)


# --------------------------------------------------------------------------- training loop

def test_run_a_gan_returns_what_it_showed_and_scored(capfd):
    D, G = T.build_dc_classifier(), T.build_dc_generator()
    D_solver, G_solver = T.get_solvers()
    mnist = T.MNIST(batch_size=32, shuffle=True, num=128)
    before = tf.config.optimizer.get_experimental_options()
    run = T.run_a_gan(D, G, D_solver, G_solver, T.discriminator_loss, T.generator_loss, mnist,
                      show_every=3, num_epochs=2, max_iters=7, score_fn=lambda x: float(x.mean()),
                      score_every=5, num_score=40, show=False)
    assert run.iterations == 7 and len(run.d_loss) == len(run.g_loss) == 7
    assert [it for it, _ in run.samples] == [0, 3, 6, 7]
    assert [it for it, _ in run.scores] == [0, 5, 7]
    assert all(images.shape == (16, 784) and 0 <= images.min() and images.max() <= 1
               for _, images in run.samples)
    assert run.train_seconds > 0 and np.all(np.isfinite(run.g_loss))
    assert tf.config.optimizer.get_experimental_options().get("remapping", True) == \
        before.get("remapping", True)
    assert "remapper failed" not in capfd.readouterr().err


def test_the_averaged_generator_of_a_run():
    def train(ema_decay):
        keras.utils.set_random_seed(0)
        D, G = T.discriminator(), T.build_dc_generator()
        run = T.run_a_gan(D, G, T.get_optimizer(), T.get_optimizer(), T.discriminator_loss,
                          T.generator_loss, T.MNIST(32, num=160), show_every=2, num_epochs=1,
                          show=False, ema_decay=ema_decay)
        return G, run

    G, run = train(0.0)          # decay 0: the average is G itself after every step
    assert len(run.G_average.weights) == len(G.weights) == 20   # moving statistics included
    for avg, new in zip(run.G_average.get_weights(), G.get_weights(), strict=True):
        np.testing.assert_allclose(avg, new, rtol=1e-6, atol=1e-7)
    G, run = train(0.9)
    assert not np.allclose(run.G_average.get_weights()[0], G.get_weights()[0])
    np.testing.assert_allclose(run.samples[-1][1], T.generate(run.G_average, 16, seed=1), atol=1e-6)


def test_run_a_gan_stops_at_a_nan_loss():
    D, G = T.discriminator(), T.generator()
    last = D.layers[-1]
    last.set_weights([last.get_weights()[0], np.full(1, np.nan, np.float32)])
    with pytest.raises(FloatingPointError, match="iteration 0"):
        T.run_a_gan(D, G, T.get_optimizer(), T.get_optimizer(), T.discriminator_loss,
                    T.generator_loss, T.MNIST(16, num=64), show=False)


def test_sample_noise_and_generate_are_seeded():
    z = T.sample_noise(1000, 7).numpy()
    assert z.shape == (1000, 7) and z.min() >= -1 and z.max() <= 1 and z.min() < -0.99
    np.testing.assert_array_equal(T.sample_noise(4, 3, seed=2), T.sample_noise(4, 3, seed=2))
    G = T.build_dc_generator()
    a = T.generate(G, 10, seed=3, batch_size=4)
    np.testing.assert_allclose(a, T.generate(G, 10, seed=3), atol=1e-6)
    assert a.shape == (10, 784) and a.min() >= 0 and a.max() <= 1


# --------------------------------------------------------------------------- isolation

def test_module_does_not_import_pytorch():
    """(That it prints no start-up lines is tested with the other TensorFlow modules, in
    test_cifar10_training.py.)"""
    code = ("import sys; import cs231n.gan_tensorflow; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    env = {**os.environ, "PYTHONPATH": str(config.REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
