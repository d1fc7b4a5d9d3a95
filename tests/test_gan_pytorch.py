"""GANs in PyTorch: the course's checks (parameter counts, the check file's losses), the losses
against float64 formulas, one D step and one G step moving their losses the right way, the
training loop, and the module not importing TensorFlow."""
import os
import subprocess
import sys

import numpy as np
import pytest

from cs231n import config, data_utils, gan_utils

torch = pytest.importorskip("torch")
P = pytest.importorskip("cs231n.gan_pytorch")

pytestmark = pytest.mark.a3


@pytest.fixture(autouse=True)
def _seed_torch():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def checks():
    return data_utils.load_check_file("gan-checks-tf.npz")


def t64(a):
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


# --------------------------------------------------------------------------- the course's checks

def test_parameter_counts():
    assert P.count_params(P.discriminator()) == 267_009
    assert P.count_params(P.generator(4)) == 1_858_320
    assert P.count_params(P.build_dc_classifier(128)) == 1_102_721
    G = P.build_dc_generator(4)
    assert P.count_params(G) == 6_580_801
    # The running means and variances of the 1024-, 6272- and 64-channel batch norms (14,720
    # values: what the 2018 TensorFlow count of 6,595,521 added) plus 3 batch counters.
    assert P.count_buffers(G) == 2 * (1024 + 7 * 7 * 128 + 64) + 3


def test_losses_match_the_course_check_file(checks):
    real, fake = t64(checks["logits_real"]), t64(checks["logits_fake"])
    for value, expected in ((P.discriminator_loss(real, fake), checks["d_loss_true"]),
                            (P.generator_loss(fake), checks["g_loss_true"]),
                            (P.ls_discriminator_loss(real, fake), checks["d_loss_lsgan_true"]),
                            (P.ls_generator_loss(fake), checks["g_loss_lsgan_true"])):
        assert value.dtype == torch.float64
        assert P.rel_error(value.item(), expected) < 1e-7


def test_losses_against_float64_formulas():
    rng = np.random.default_rng(0)
    for shape in ((37,), (16, 1)):
        r, f = rng.normal(0, 3, shape), rng.normal(0, 3, shape)
        sig = lambda s: 1 / (1 + np.exp(-s))
        d = -np.mean(np.log(sig(r))) - np.mean(np.log(1 - sig(f)))
        g = -np.mean(np.log(sig(f)))
        np.testing.assert_allclose(P.discriminator_loss(t64(r), t64(f)).item(), d, rtol=1e-12)
        np.testing.assert_allclose(P.generator_loss(t64(f)).item(), g, rtol=1e-12)
        np.testing.assert_allclose(P.ls_discriminator_loss(t64(r), t64(f)).item(),
                                   0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2), rtol=1e-12)
        np.testing.assert_allclose(P.ls_generator_loss(t64(f)).item(), 0.5 * np.mean((f - 1) ** 2),
                                   rtol=1e-12)


def test_bce_loss_is_stable_for_large_logits():
    s = t64([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    ones, zeros = torch.ones_like(s), torch.zeros_like(s)
    np.testing.assert_allclose(P.bce_loss(s, ones).item(), (1000 + 50 + np.log(2) + 0 + 0) / 5,
                               rtol=1e-12)
    np.testing.assert_allclose(P.bce_loss(s, zeros).item(), (0 + 0 + np.log(2) + 50 + 1000) / 5,
                               rtol=1e-12)
    with pytest.raises(ValueError, match="same shape"):
        P.bce_loss(torch.zeros(4, 1), torch.zeros(4))


def test_alternating_gradient_steps_cycle_with_period_six():
    path = gan_utils.alternating_gradient_steps(1, 1, steps=6, step_size=1)
    assert path == [(1, 1), (-1, 2), (-2, 1), (-1, -1), (1, -2), (2, -1), (1, 1)]


# --------------------------------------------------------------------------- networks

def test_sample_noise_range_shape_and_seed():
    z = P.sample_noise(1000, 7)
    assert z.shape == (1000, 7) and z.min() >= -1 and z.max() <= 1
    assert z.min() < -0.99 and z.max() > 0.99  # the whole interval, not [0, 1]
    assert torch.equal(P.sample_noise(5, 3, seed=4), P.sample_noise(5, 3, seed=4))
    assert not torch.equal(P.sample_noise(5, 3), P.sample_noise(5, 3))


@pytest.mark.parametrize("N", [1, 5, 128])
def test_output_shapes_for_any_batch_size(N):
    x, z = torch.rand(N, 784) * 2 - 1, P.sample_noise(N, 96)
    assert P.discriminator()(x).shape == (N, 1)
    assert P.discriminator()(x.reshape(N, 1, 28, 28)).shape == (N, 1)
    assert P.build_dc_classifier()(x).shape == (N, 1)
    G = P.build_dc_generator().eval()  # eval: batch norm also works on one sample
    for out in (P.generator()(z), G(z)):
        assert out.shape == (N, 784) and out.min() >= -1 and out.max() <= 1


def test_initialize_weights_and_chunk_sampler():
    model = P.generator(4)
    model.apply(P.initialize_weights)
    w = model[2].weight.detach()
    bound = np.sqrt(6 / (1024 + 1024))  # Xavier-uniform
    assert w.abs().max() <= bound and w.abs().max() > 0.9 * bound
    assert float(model[2].bias.detach().abs().max()) == 0
    assert list(P.ChunkSampler(4, start=10)) == [10, 11, 12, 13] and len(P.ChunkSampler(4)) == 4


# --------------------------------------------------------------------------- one step each

@pytest.mark.parametrize("variant", ["vanilla", "lsgan", "dcgan"])
def test_one_d_step_and_one_g_step_move_their_losses_the_right_way(variant):
    build_d, build_g = ((P.build_dc_classifier, P.build_dc_generator) if variant == "dcgan"
                        else (P.discriminator, P.generator))
    d_loss_fn, g_loss_fn = ((P.ls_discriminator_loss, P.ls_generator_loss) if variant == "lsgan"
                            else (P.discriminator_loss, P.generator_loss))
    D, G = build_d(), build_g()
    real = P.preprocess_img(torch.from_numpy(gan_utils.mnist_images("train", 64)))
    z = P.sample_noise(64, 96, seed=1)
    D_solver, G_solver = P.get_optimizer(D), P.get_optimizer(G)
    assert D_solver.defaults["lr"] == 1e-3 and D_solver.defaults["betas"] == (0.5, 0.999)
    # A small step: Adam's first step moves every weight by about lr at once, and at 1e-3 the
    # unbounded least-squares scores of a freshly initialized D can overshoot on one batch.
    for solver in (D_solver, G_solver):
        solver.param_groups[0]["lr"] = 1e-5

    def d_loss():
        return d_loss_fn(D(real), D(G(z).detach()))

    before = d_loss()
    D_solver.zero_grad()
    before.backward()
    D_solver.step()
    assert d_loss().item() < before.item()

    g_before = g_loss_fn(D(G(z)))
    G_solver.zero_grad()
    g_before.backward()
    G_solver.step()
    assert g_loss_fn(D(G(z))).item() < g_before.item()


# --------------------------------------------------------------------------- training loop

def test_run_a_gan_returns_what_it_showed_and_scored():
    torch.manual_seed(0)
    D, G = P.discriminator(), P.generator()
    loader = P.mnist_loader(batch_size=32, num_train=320)
    scores = []

    def score_fn(images):
        assert images.shape == (50, 784) and 0 <= images.min() and images.max() <= 1
        scores.append(float(images.mean()))
        return scores[-1]

    run = P.run_a_gan(D, G, P.get_optimizer(D), P.get_optimizer(G), P.discriminator_loss,
                      P.generator_loss, loader_train=loader, show_every=4, num_epochs=2,
                      max_iters=13, score_fn=score_fn, score_every=6, num_score=50, show=False,
                      device="cpu")
    assert run.iterations == 13 and len(run.d_loss) == len(run.g_loss) == 13
    assert [it for it, _ in run.samples] == [0, 4, 8, 12, 13]
    assert all(images.shape == (16, 784) for _, images in run.samples)
    assert [it for it, _ in run.scores] == [0, 6, 12, 13] and [s for _, s in run.scores] == scores
    assert run.train_seconds > 0 and np.all(np.isfinite(run.d_loss))
    assert not np.array_equal(run.samples[0][1], run.samples[-1][1])  # G learned something


def test_update_average_and_the_averaged_generator_of_a_run():
    a, b = P.build_dc_generator(4), P.build_dc_generator(4)
    with torch.no_grad():
        b(P.sample_noise(8, 4))  # running statistics and counters that differ from a's
    expected = {k: 0.25 * v + 0.75 * b.state_dict()[k] if v.dtype.is_floating_point else b.state_dict()[k]
                for k, v in a.state_dict().items()}
    P.update_average(a, b, 0.25)
    for k, v in a.state_dict().items():
        torch.testing.assert_close(v, expected[k])
    assert gan_utils.ema_decay_at(0, 0.999) == 0.1 and gan_utils.ema_decay_at(10**6, 0.999) == 0.999

    def train(ema_decay):
        torch.manual_seed(0)
        D, G = P.discriminator(), P.generator()
        run = P.run_a_gan(D, G, P.get_optimizer(D), P.get_optimizer(G), P.discriminator_loss,
                          P.generator_loss, loader_train=P.mnist_loader(32, num_train=192),
                          show_every=3, num_epochs=1, show=False, ema_decay=ema_decay, device="cpu")
        return G, run

    G, run = train(0.0)          # decay 0: the average is G itself after every step
    for avg, new in zip(run.G_average.state_dict().values(), G.state_dict().values(), strict=True):
        torch.testing.assert_close(avg, new)
    np.testing.assert_allclose(run.samples[-1][1], P.generate(G, 16, seed=1), atol=1e-6)
    G, run = train(0.9)
    assert not torch.equal(run.G_average[0].weight, G[0].weight)
    np.testing.assert_allclose(run.samples[-1][1], P.generate(run.G_average, 16, seed=1), atol=1e-6)
    assert train(None)[1].G_average is None


def test_run_a_gan_stops_at_a_nan_loss():
    D, G = P.discriminator(), P.generator()
    with torch.no_grad():
        D[-1].bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="iteration 0"):
        P.run_a_gan(D, G, P.get_optimizer(D), P.get_optimizer(G), P.discriminator_loss,
                    P.generator_loss, loader_train=P.mnist_loader(16, num_train=64), show=False,
                    device="cpu")


def test_generate_is_seeded_in_eval_mode_and_restores_the_mode():
    G = P.build_dc_generator()
    G.train()
    a = P.generate(G, 10, seed=3, batch_size=4)
    assert G.training
    np.testing.assert_allclose(a, P.generate(G, 10, seed=3), atol=1e-6)  # nor does the batch size
    assert a.shape == (10, 784) and a.min() >= 0 and a.max() <= 1


# --------------------------------------------------------------------------- isolation

def test_module_does_not_import_tensorflow():
    code = ("import sys; import cs231n.gan_pytorch, cs231n.gan_scorer_pytorch; "
            "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; assert not bad, bad")
    env = {**os.environ, "PYTHONPATH": str(config.REPO_ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
