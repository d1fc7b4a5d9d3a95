"""cifar10_pytorch: shapes and parameter counts, barebones == Module == Sequential, SGD steps,
loaders, open-ended model and training; the starter-kit version asks for each task."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from cs231n import cifar10_pytorch as P

pytestmark = pytest.mark.a2
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _torch_seed_one_thread():
    """Seeded, and single-threaded: tiny tensors gain nothing from threads, and on a busy
    machine OpenMP threads waiting for each other make each op many times slower."""
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _conv_params(c1=6, c2=9, hw=8, k=10):
    """Random barebones three-layer convnet parameters for (N, 3, hw, hw) inputs."""
    return [P.random_weight((c1, 3, 5, 5), CPU), torch.randn(c1, requires_grad=True),
            P.random_weight((c2, c1, 3, 3), CPU), torch.randn(c2, requires_grad=True),
            P.random_weight((c2 * hw * hw, k), CPU), torch.randn(k, requires_grad=True)]


def _load_module_weights(module, params):
    """Copy barebones [conv_w1, conv_b1, conv_w2, conv_b2, fc_w, fc_b] into a conv-conv-fc module."""
    layers = [m for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        for layer, (w, b) in zip(layers, zip(params[0::2], params[1::2], strict=True), strict=True):
            layer.weight.copy_(w.T if isinstance(layer, nn.Linear) else w)  # Linear stores (K, D)
            layer.bias.copy_(b)


# --------------------------------------------------------------------------- barebones

def test_flatten_keeps_the_batch_axis_and_chw_order():
    x = torch.arange(12).view(2, 1, 3, 2)
    out = P.flatten(x)
    assert out.shape == (2, 6)
    assert torch.equal(out[1], torch.arange(6, 12))
    cl = torch.randn(2, 3, 4, 5).contiguous(memory_format=torch.channels_last)
    assert torch.equal(P.flatten(cl), cl.contiguous().view(2, -1))


def test_barebones_output_shapes():
    assert P.two_layer_fc(torch.zeros(64, 50), [torch.zeros(50, 42), torch.zeros(42, 10)]).shape == (64, 10)
    params = [torch.zeros(6, 3, 5, 5), torch.zeros(6), torch.zeros(9, 6, 3, 3), torch.zeros(9),
              torch.zeros(9 * 32 * 32, 10), torch.zeros(10)]
    assert P.three_layer_convnet(torch.zeros(64, 3, 32, 32), params).shape == (64, 10)


def test_three_layer_convnet_matches_a_float64_reference():
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    params = [p.detach().double() for p in _conv_params()]
    w1, b1, w2, b2, fw, fb = params
    h = torch.clamp(F.conv2d(F.pad(x, (2, 2, 2, 2)), w1) + b1.view(1, -1, 1, 1), min=0)
    h = torch.clamp(F.conv2d(F.pad(h, (1, 1, 1, 1)), w2) + b2.view(1, -1, 1, 1), min=0)
    expected = h.reshape(3, -1) @ fw + fb
    assert torch.allclose(P.three_layer_convnet(x, params), expected, atol=1e-12)


@pytest.mark.parametrize("shape, fan_in", [((300, 20), 300), ((16, 8, 3, 3), 72)])
def test_random_weight_is_kaiming_normal(shape, fan_in):
    w = P.random_weight(shape, CPU)
    assert w.shape == shape and w.requires_grad and w.is_leaf and w.dtype == torch.float32
    assert abs(w.std().item() / math.sqrt(2 / fan_in) - 1) < 0.05
    assert abs(w.mean().item()) < 0.1 * math.sqrt(2 / fan_in)


def test_zero_weight_and_bad_shapes():
    b = P.zero_weight((7,), CPU)
    assert b.shape == (7,) and b.requires_grad and not b.any()
    with pytest.raises(ValueError, match="random_weight"):
        P.random_weight((3, 4, 5), CPU)


def test_training_step_is_one_sgd_step_and_reduces_the_loss():
    x, y = torch.randn(16, 3, 8, 8), torch.randint(0, 10, (16,))
    params = _conv_params()
    before = [p.detach().clone() for p in params]
    loss0 = F.cross_entropy(P.three_layer_convnet(x, before), y)
    ref = [b.clone().requires_grad_() for b in before]
    F.cross_entropy(P.three_layer_convnet(x, ref), y).backward()
    loss = P.training_step(P.three_layer_convnet, x, y, params, 1e-2)
    assert loss == pytest.approx(loss0.item(), rel=1e-6)
    for p, b, r in zip(params, before, ref, strict=True):
        assert torch.allclose(p, b - 1e-2 * r.grad, atol=1e-6)
        assert not p.grad.any()  # zeroed for the next step
    assert F.cross_entropy(P.three_layer_convnet(x, params), y).item() < loss0.item()


# --------------------------------------------------------------------------- Module and Sequential

def test_module_shapes_and_parameter_counts():
    fc = P.TwoLayerFC(50, 42, 10)
    assert fc(torch.zeros(64, 50)).shape == (64, 10)
    assert P.count_params(fc) == 50 * 42 + 42 + 42 * 10 + 10
    conv = P.ThreeLayerConvNet(in_channel=3, channel_1=12, channel_2=8, num_classes=10)
    assert conv(torch.zeros(64, 3, 32, 32)).shape == (64, 10)
    expected = (12 * 3 * 25 + 12) + (8 * 12 * 9 + 8) + (8 * 32 * 32 * 10 + 10)
    assert P.count_params(conv) == expected == 83714
    seq_fc = P.two_layer_fc_sequential(3 * 32 * 32, 4000, 10)
    assert seq_fc(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert P.count_params(seq_fc) == 3072 * 4000 + 4000 + 4000 * 10 + 10
    seq_conv = P.three_layer_convnet_sequential(3, 12, 8, 10)
    assert P.count_params(seq_conv) == expected


def test_module_init_is_kaiming_with_zero_bias():
    conv = P.ThreeLayerConvNet(3, 64, 32, 10)
    assert abs(conv.conv2.weight.std().item() / math.sqrt(2 / (64 * 9)) - 1) < 0.05
    assert not conv.conv1.bias.any() and not conv.fc.bias.any()


def test_barebones_module_and_sequential_agree_given_the_same_weights():
    x = torch.randn(4, 3, 32, 32)
    params = _conv_params(c1=6, c2=5, hw=32)
    expected = P.three_layer_convnet(x, params)
    for model in (P.ThreeLayerConvNet(3, 6, 5, 10), P.three_layer_convnet_sequential(3, 6, 5, 10)):
        _load_module_weights(model, params)
        assert torch.allclose(model(x), expected, atol=1e-5)
    w1, w2 = P.random_weight((3072, 20), CPU), P.random_weight((20, 10), CPU)
    fc = P.TwoLayerFC(3072, 20, 10)
    with torch.no_grad():
        fc.fc1.weight.copy_(w1.T)
        fc.fc2.weight.copy_(w2.T)
        fc.fc1.bias.zero_()
        fc.fc2.bias.zero_()
    assert torch.allclose(fc(x), P.two_layer_fc(x, [w1, w2]), atol=1e-5)


def test_one_optimizer_step_reduces_the_loss_on_a_fixed_batch():
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    for model in (P.ThreeLayerConvNet(3, 8, 4, 10), P.three_layer_convnet_sequential(3, 8, 4, 10),
                  P.TwoLayerFC(3072, 64, 10), P.two_layer_fc_sequential(3072, 64, 10)):
        loader = DataLoader(TensorDataset(x, y), batch_size=8)
        optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, nesterov=True)
        loss0 = F.cross_entropy(model(x), y).item()
        history = P.train_part34(model, optimizer, loader, loader, device=CPU)
        assert history["loss"] == [pytest.approx(loss0, rel=1e-5)]
        assert F.cross_entropy(model(x), y).item() < loss0


def test_train_part2_records_loss_and_validation_accuracy():
    x, y = torch.randn(40, 3, 8, 8), torch.randint(0, 10, (40,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    params = [P.random_weight((192, 30), CPU), P.random_weight((30, 10), CPU)]
    history = P.train_part2(P.two_layer_fc, params, 1e-2, loader, loader, print_every=2,
                            device=CPU, max_iters=3)
    assert len(history["loss"]) == 3
    assert [t for t, _ in history["val_acc"]] == [0, 2, 3]
    assert all(0 <= a <= 1 for _, a in history["val_acc"])


def test_check_accuracy_counts_correct_predictions():
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    loader = DataLoader(TensorDataset(F.one_hot(y, 10).float(), y), batch_size=4)
    right = P.check_accuracy_part2(loader, lambda x, params: x * params[0], [torch.tensor(1.0)], CPU)
    module_acc = P.check_accuracy_part34(loader, nn.Sequential(nn.Identity()), CPU)
    assert right == module_acc == 1.0
    wrong = P.check_accuracy_part2(loader, lambda x, params: x.roll(1, dims=1), [], CPU)
    assert wrong == 0.0


# --------------------------------------------------------------------------- data

def test_loaders_batch_and_shuffle_reproducibly():
    data = {f"X_{s}": np.random.randn(10, 3, 4, 4).astype(np.float32) for s in ("train", "val", "test")}
    data.update({f"y_{s}": np.arange(10) for s in ("train", "val", "test")})
    first = [y for _, y in P.cifar10_loaders(data, batch_size=4, seed=3)[0]]
    again = [y for _, y in P.cifar10_loaders(data, batch_size=4, seed=3)[0]]
    assert [len(y) for y in first] == [4, 4, 2]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    assert sorted(torch.cat(first).tolist()) == list(range(10))
    val = next(iter(P.cifar10_loaders(data, batch_size=4)[1]))[1]
    assert val.tolist() == [0, 1, 2, 3]  # no shuffling outside training


# --------------------------------------------------------------------------- open-ended

def test_cifarnet_shape_and_parameter_count():
    model = P.CifarNet(widths=(8, 16, 24), stem_width=4, num_classes=10)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)

    def group(i, o):
        return o * i * 9 + 2 * o + o * o * 9 + 2 * o
    expected = (4 * 3 * 9 + 2 * 4) + group(4, 8) + group(8, 16) + group(16, 24) + 24 * 10
    assert P.count_params(model) == expected
    assert P.count_params(P.CifarNet()) == 1_117_408
    with pytest.raises(ValueError, match="widths"):
        P.CifarNet(widths=(8, 16))


def test_augment_batch_only_translates_and_flips():
    x = torch.randn(6, 3, 8, 8)
    gen = torch.Generator().manual_seed(0)
    out = P.augment_batch(x, pad=2, generator=gen)
    assert out.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2), mode="reflect")
    for img, src in zip(out, padded, strict=True):
        views = [v for dy in range(5) for dx in range(5) for v in
                 (src[:, dy:dy + 8, dx:dx + 8], src[:, dy:dy + 8, dx:dx + 8].flip(2))]
        assert any(torch.equal(img, v) for v in views)
    flips = P.augment_batch(x, pad=0, generator=gen)
    assert all(torch.equal(f, i) or torch.equal(f, i.flip(2)) for f, i in zip(flips, x, strict=True))
    many = P.augment_batch(torch.randn(200, 1, 8, 8), pad=2, generator=gen)
    assert many.shape == (200, 1, 8, 8)
    with pytest.raises(ValueError, match="pad"):
        P.augment_batch(x, pad=8)


def test_augment_batch_varies_the_shift():
    x = torch.arange(64.0).view(1, 1, 8, 8).repeat(300, 1, 1, 1)
    out = P.augment_batch(x, pad=2, generator=torch.Generator().manual_seed(1))
    assert len({tuple(o.flatten()[:3].tolist()) for o in out}) > 20  # many different crops/flips


def test_predict_scores_with_flip_tta_averages_the_two_views():
    model = P.CifarNet(widths=(4, 8, 8), stem_width=4).eval()
    X = torch.randn(5, 3, 16, 16)
    with torch.no_grad():
        expected = (model(X) + model(X.flip(3))) / 2
    got = P.predict_scores(model, X.numpy(), batch_size=2, tta=True, device=CPU, bf16=False)
    assert torch.allclose(got, expected, atol=1e-5)
    y = expected.argmax(1)
    assert P.accuracy(model, X, y, tta=True, device=CPU, bf16=False) == 1.0


@pytest.mark.parametrize("bf16", [False, True])
def test_train_open_ended_fits_a_tiny_problem(bf16):
    gen = np.random.default_rng(0)
    y = np.arange(64) % 2
    X = gen.normal(size=(64, 3, 16, 16)).astype(np.float32) + y[:, None, None, None].astype(np.float32)
    data = {"X_train": X, "y_train": y, "X_val": X[:16], "y_val": y[:16]}
    model = P.CifarNet(widths=(8, 8, 8), stem_width=4, num_classes=2)
    history = P.train_open_ended(model, data, epochs=3, batch_size=16, learning_rate=0.05,
                                 device=CPU, bf16=bf16, max_iters=4)
    assert len(history["loss"]) == len(history["lr"]) == 12 and len(history["val_acc"]) == 3
    assert all(math.isfinite(v) for v in history["loss"]) and history["images_per_second"] > 0
    assert np.mean(history["loss"][-4:]) < np.mean(history["loss"][:4])
    with pytest.raises(ValueError, match="batch"):
        P.train_open_ended(model, data, batch_size=128, device=CPU)


@pytest.mark.parametrize("amx, expected", [(lambda: True, True), (lambda: False, False), (None, False)])
def test_fast_bf16_on_a_cpu_follows_the_amx_units(monkeypatch, amx, expected):
    if amx is None:
        monkeypatch.delattr(torch.cpu, "_is_amx_tile_supported", raising=False)
    else:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", amx, raising=False)
    assert P.fast_bf16(CPU) is expected


def test_open_ended_optimizer_decays_the_weights_only():
    model = P.CifarNet(widths=(4, 8, 8), stem_width=4)
    optimizer = P.open_ended_optimizer(model, learning_rate=0.3, momentum=0.8, weight_decay=1e-3)
    decayed, free = optimizer.param_groups
    assert decayed["weight_decay"] == 1e-3 and free["weight_decay"] == 0.0
    assert all(p.ndim > 1 for p in decayed["params"]) and all(p.ndim == 1 for p in free["params"])
    assert len(decayed["params"]) + len(free["params"]) == len(list(model.parameters()))
    assert decayed["nesterov"] and decayed["momentum"] == 0.8 and decayed["lr"] == 0.3


def test_open_ended_step_is_one_nesterov_sgd_step_with_label_smoothing():
    import copy
    model = P.CifarNet(widths=(4, 8, 8), stem_width=4).train()
    reference = copy.deepcopy(model)
    x, y = torch.randn(6, 3, 16, 16), torch.randint(0, 10, (6,))
    optimizer = P.open_ended_optimizer(model, learning_rate=1.0, momentum=0.9, weight_decay=0.1)
    loss = P.open_ended_step(model, optimizer, x, y, lr=0.05, label_smoothing=0.2)
    expected = F.cross_entropy(reference(x), y, label_smoothing=0.2)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-5)
    assert all(group["lr"] == 0.05 for group in optimizer.param_groups)
    for p, r in zip(model.parameters(), reference.parameters(), strict=True):
        grad = r.grad + 0.1 * r.detach() if r.ndim > 1 else r.grad  # decay on weights only
        # first Nesterov step: velocity = grad, update = lr * (grad + momentum * velocity)
        assert torch.allclose(p.detach(), r.detach() - 0.05 * 1.9 * grad, atol=1e-6)


def test_augmented_batches_takes_the_first_batches_channels_last():
    loader = DataLoader(TensorDataset(torch.randn(10, 3, 8, 8), torch.arange(10)), batch_size=2)
    out = list(P.augmented_batches(loader, 3, CPU, pad=1, generator=torch.Generator().manual_seed(0)))
    assert [y.tolist() for _, y in out] == [[0, 1], [2, 3], [4, 5]]
    assert all(x.shape == (2, 3, 8, 8) and x.is_contiguous(memory_format=torch.channels_last)
               for x, _ in out)


def test_train_epoch_steps_at_the_given_rates_and_stops_at_a_nan():
    model = P.CifarNet(widths=(4, 4, 4), stem_width=4, num_classes=2)
    optimizer = P.open_ended_optimizer(model, learning_rate=0.1)
    batches = [(torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 0, 1]))] * 5
    losses = P.train_epoch(model, optimizer, batches, lrs=[0.01, 0.02, 0.03])
    assert len(losses) == 3 and all(math.isfinite(v) for v in losses)
    assert optimizer.param_groups[0]["lr"] == 0.03
    bad = [(torch.full((4, 3, 8, 8), float("nan")), torch.tensor([0, 1, 0, 1]))]
    with pytest.raises(FloatingPointError, match="iteration 7"):
        P.train_epoch(model, optimizer, bad, lrs=[0.01], first_step=7)
