"""cifar10_tensorflow: shapes and counts, barebones == Keras, TF == PyTorch with converted weights,
training; the starter-kit version asks for each task."""

import numpy as np
import pytest
import torch

from cs231n import cifar10_pytorch as P
from cs231n import cifar10_tensorflow as T  # imports TensorFlow quietly: before tf and keras
from cs231n.cifar10_training import one_cycle_lr

tf, keras = T.tf, T.keras

pytestmark = pytest.mark.a2


@pytest.fixture(autouse=True)
def _seeds():
    tf.random.set_seed(0)
    keras.utils.set_random_seed(0)
    torch.manual_seed(0)


def _torch_conv_params(c1=6, c2=5, hw=8, k=10):
    """Random float64 PyTorch-layout parameters of the barebones three-layer convnet."""
    return [torch.randn(c1, 3, 5, 5, dtype=torch.float64) * 0.2, torch.randn(c1, dtype=torch.float64),
            torch.randn(c2, c1, 3, 3, dtype=torch.float64) * 0.2, torch.randn(c2, dtype=torch.float64),
            torch.randn(c2 * hw * hw, k, dtype=torch.float64) * 0.05, torch.randn(k, dtype=torch.float64)]


def _set_conv_weights(model, tf_params):
    """Load barebones TF parameters [w1, b1, w2, b2, fc_w, fc_b] into a conv-conv-dense Keras model."""
    layers = [layer for layer in model.layers if layer.weights]
    for layer, (w, b) in zip(layers, zip(tf_params[0::2], tf_params[1::2], strict=True), strict=True):
        layer.set_weights([np.asarray(w), np.asarray(b)])


# --------------------------------------------------------------------------- barebones and layouts

def test_flatten_and_barebones_shapes():
    assert T.flatten(np.arange(24).reshape(2, 3, 4)).shape == (2, 12)
    assert T.two_layer_fc(tf.zeros((64, 32, 32, 3)), [tf.zeros((3072, 42)), tf.zeros((42, 10))]).shape == (64, 10)
    params = [tf.zeros(s) for s in [(5, 5, 3, 6), (6,), (3, 3, 6, 9), (9,), (32 * 32 * 9, 10), (10,)]]
    assert T.three_layer_convnet(tf.zeros((64, 32, 32, 3)), params).shape == (64, 10)


def test_three_layer_convnet_agrees_with_pytorch_given_converted_weights():
    x = torch.randn(3, 3, 8, 8, dtype=torch.float64)
    params = _torch_conv_params()
    expected = P.three_layer_convnet(x, params).numpy()
    tf_params = [tf.constant(p) for p in T.convnet_params_torch_to_tf([p.numpy() for p in params], 8, 8)]
    got = T.three_layer_convnet(tf.constant(T.images_nchw_to_nhwc(x.numpy())), tf_params).numpy()
    assert np.allclose(got, expected, atol=1e-10)


def test_layout_conversions_round_trip_and_reorder_flattened_features():
    w = np.random.randn(4, 3, 5, 2)
    assert T.conv_weight_torch_to_tf(w).shape == (5, 2, 3, 4)
    assert np.array_equal(T.conv_weight_tf_to_torch(T.conv_weight_torch_to_tf(w)), w)
    x = np.random.randn(2, 3, 4, 5)  # (N, C, H, W)
    fc = np.random.randn(3 * 4 * 5, 7)
    fc_tf = T.fc_weight_torch_to_tf(fc, 3, 4, 5)
    nhwc = T.images_nchw_to_nhwc(x)
    assert np.allclose(nhwc.reshape(2, -1) @ fc_tf, x.reshape(2, -1) @ fc)
    assert np.array_equal(T.fc_weight_tf_to_torch(fc_tf, 3, 4, 5), fc)
    with pytest.raises(ValueError, match="C\\*H\\*W"):
        T.fc_weight_torch_to_tf(fc, 3, 4, 4)
    with pytest.raises(ValueError, match="4-D"):
        T.conv_weight_torch_to_tf(fc)


@pytest.mark.parametrize("shape, fan_in", [((300, 20), 300), ((3, 3, 8, 16), 72)])
def test_kaiming_normal_and_variables(shape, fan_in):
    w = T.random_weight(shape)
    assert isinstance(w, tf.Variable) and w.trainable and tuple(w.shape) == shape
    assert abs(float(tf.math.reduce_std(w)) / np.sqrt(2 / fan_in) - 1) < 0.05
    assert not np.any(T.zero_weight((4,)).numpy())
    with pytest.raises(ValueError, match="kaiming_normal"):
        T.kaiming_normal((2, 3, 4))


def test_init_functions_match_the_course_shapes():
    assert [tuple(p.shape) for p in T.two_layer_fc_init()] == [(3072, 4000), (4000, 10)]
    assert [tuple(p.shape) for p in T.three_layer_convnet_init()] == [
        (5, 5, 3, 32), (32,), (3, 3, 32, 16), (16,), (16 * 32 * 32, 10), (10,)]


def test_training_step_is_one_sgd_step_and_reduces_the_loss():
    x, y = tf.random.normal((16, 8, 8, 3)), tf.constant(np.arange(16) % 10)
    params = T.three_layer_convnet_init(6, 5, 10, 8, 8)
    before = [tf.identity(p) for p in params]
    with tf.GradientTape() as tape:
        tape.watch(before)
        loss0 = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
            labels=y, logits=T.three_layer_convnet(x, before)))
    grads = tape.gradient(loss0, before)
    loss = T.training_step(T.three_layer_convnet, x, y, params, 1e-2)
    assert loss == pytest.approx(float(loss0), rel=1e-6)
    for p, b, g in zip(params, before, grads, strict=True):
        assert np.allclose(p.numpy(), (b - 1e-2 * g).numpy(), atol=1e-6)
    after = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(
        labels=y, logits=T.three_layer_convnet(x, params)))
    assert float(after) < float(loss0)


# --------------------------------------------------------------------------- Keras APIs

def test_each_layer_gets_its_own_random_initial_weights():
    model = T.two_layer_fc_sequential((8,), 8, 8)  # two (8, 8) kernels
    k1, k2 = (layer.kernel.numpy() for layer in model.layers if layer.weights)
    assert not np.allclose(k1, k2)
    keras.utils.set_random_seed(0)
    again = T.two_layer_fc_sequential((8,), 8, 8)
    assert np.array_equal(again.layers[1].kernel.numpy(), k1)


def test_keras_models_shapes_and_parameter_counts():
    fc = T.TwoLayerFC(42, 10)
    assert fc(tf.zeros((64, 50))).shape == (64, 10)
    assert T.count_params(fc) == 50 * 42 + 42 + 42 * 10 + 10
    conv = T.ThreeLayerConvNet(12, 8, 10)
    assert conv(tf.zeros((64, 32, 32, 3))).shape == (64, 10)
    assert T.count_params(conv) == 83714 == P.count_params(P.ThreeLayerConvNet(3, 12, 8, 10))
    for build in (T.three_layer_convnet_sequential, T.three_layer_convnet_functional):
        assert T.count_params(build((32, 32, 3), 12, 8, 10)) == 83714
    for build in (T.two_layer_fc_sequential, T.two_layer_fc_functional):
        assert T.count_params(build((32, 32, 3), 40, 10)) == 3072 * 40 + 40 + 40 * 10 + 10


def test_barebones_keras_and_pytorch_convnets_agree_given_the_same_weights():
    x = torch.randn(2, 3, 32, 32)
    torch_params = [p.float() for p in _torch_conv_params(c1=4, c2=3, hw=32)]
    tf_params = T.convnet_params_torch_to_tf([p.numpy() for p in torch_params])
    x_tf = T.images_nchw_to_nhwc(x.numpy())
    module = P.ThreeLayerConvNet(3, 4, 3, 10)
    with torch.no_grad():
        for layer, (w, b) in zip([module.conv1, module.conv2, module.fc],
                                 zip(torch_params[0::2], torch_params[1::2], strict=True), strict=True):
            layer.weight.copy_(w.T if layer is module.fc else w)
            layer.bias.copy_(b)
        expected = module(x).numpy()
    for model in (T.ThreeLayerConvNet(4, 3, 10), T.three_layer_convnet_sequential((32, 32, 3), 4, 3, 10),
                  T.three_layer_convnet_functional((32, 32, 3), 4, 3, 10)):
        model(x_tf[:1])  # builds the weights
        _set_conv_weights(model, tf_params)
        assert np.allclose(model(x_tf).numpy(), expected, atol=1e-4)
    barebones = T.three_layer_convnet(tf.constant(x_tf), [tf.constant(p) for p in tf_params])
    assert np.allclose(barebones.numpy(), expected, atol=1e-4)


def test_two_layer_barebones_matches_keras_with_zero_biases():
    x = tf.random.normal((3, 4, 4, 3))
    w1, w2 = T.random_weight((48, 20)), T.random_weight((20, 10))
    model = T.TwoLayerFC(20, 10)
    model(x)
    model.fc1.set_weights([w1.numpy(), np.zeros(20)])
    model.fc2.set_weights([w2.numpy(), np.zeros(10)])
    assert np.allclose(model(x).numpy(), T.two_layer_fc(x, [w1, w2]).numpy(), atol=1e-5)


def test_train_part34_one_step_reduces_the_loss_on_a_fixed_batch():
    x, y = np.random.randn(8, 32, 32, 3).astype(np.float32), np.arange(8) % 10
    dset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for init in (lambda: T.ThreeLayerConvNet(8, 4, 10), lambda: T.two_layer_fc_functional((32, 32, 3), 32, 10)):
        model, history = T.train_part34(init, lambda: keras.optimizers.SGD(1e-3, momentum=0.9, nesterov=True),
                                        dset, dset)
        assert len(history["loss"]) == 1 and [t for t, _ in history["val_acc"]] == [0, 1]
        assert float(loss_fn(y, model(x))) < history["loss"][0]


def test_train_part2_and_check_accuracy():
    x, y = np.random.randn(24, 4, 4, 3).astype(np.float32), np.arange(24) % 10
    dset = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    _, history = T.train_part2(T.two_layer_fc, lambda: T.two_layer_fc_init(48, 16, 10), 1e-2,
                               dset, dset, print_every=2, max_iters=2)
    assert len(history["loss"]) == 2 and [t for t, _ in history["val_acc"]] == [0, 2]
    labels = tf.data.Dataset.from_tensor_slices((np.eye(10, dtype=np.float32), np.arange(10))).batch(4)
    assert T.check_accuracy(labels, lambda s, params: s * params[0], [1.0]) == 1.0
    assert T.check_accuracy(labels, keras.Sequential([keras.layers.Identity()])) == 1.0


# --------------------------------------------------------------------------- data

def test_datasets_batch_and_shuffle_reproducibly():
    data = {f"X_{s}": np.random.randn(10, 4, 4, 3).astype(np.float32) for s in ("train", "val", "test")}
    data.update({f"y_{s}": np.arange(10) for s in ("train", "val", "test")})
    train, val, _ = T.cifar10_datasets(data, batch_size=4, seed=1)
    first = [y.numpy().tolist() for _, y in train]
    assert [len(b) for b in first] == [4, 4, 2] and sorted(y for batch in first for y in batch) == list(range(10))
    assert [y.numpy().tolist() for _, y in T.cifar10_datasets(data, batch_size=4, seed=1)[0]] == first
    assert next(iter(val))[1].numpy().tolist() == [0, 1, 2, 3]


def test_load_cifar10_is_channels_last():
    data = T.load_cifar10(num_training=500, num_validation=0, num_test=50)
    assert data["X_train"].shape == (500, 32, 32, 3) and data["X_test"].shape == (50, 32, 32, 3)


# --------------------------------------------------------------------------- open-ended

def test_cifar_net_matches_the_pytorch_parameter_count():
    model = T.cifar_net(widths=(8, 16, 24), stem_width=4)
    assert model(tf.zeros((2, 32, 32, 3))).shape == (2, 10)
    assert T.count_params(model) == P.count_params(P.CifarNet(widths=(8, 16, 24), stem_width=4))
    bf16 = T.cifar_net(widths=(8, 8, 8), stem_width=4, dtype_policy="mixed_bfloat16")
    assert bf16(tf.zeros((1, 32, 32, 3))).dtype == tf.float32
    with pytest.raises(ValueError, match="widths"):
        T.cifar_net(widths=(8, 8))


def test_augment_batch_only_translates_and_flips_reproducibly():
    x = tf.random.normal((6, 8, 8, 3))
    out = T.augment_batch(x, tf.constant([0, 1]), pad=2)
    assert np.array_equal(out.numpy(), T.augment_batch(x, tf.constant([0, 1]), pad=2).numpy())
    padded = np.pad(x.numpy(), ((0, 0), (2, 2), (2, 2), (0, 0)), mode="reflect")
    for img, src in zip(out.numpy(), padded, strict=True):
        views = [v for dy in range(5) for dx in range(5) for v in
                 (src[dy:dy + 8, dx:dx + 8], src[dy:dy + 8, dx:dx + 8, :][:, ::-1])]
        assert any(np.array_equal(img, v) for v in views)
    many = T.augment_batch(tf.tile(tf.reshape(tf.range(64.0), (1, 8, 8, 1)), (300, 1, 1, 1)),
                           tf.constant([3, 4]), pad=2).numpy()
    assert len({tuple(m.ravel()[:3]) for m in many}) > 20


def test_one_cycle_schedule_matches_the_pytorch_one():
    schedule = T.OneCycle(0.4, 50, warmup_frac=0.2)
    got = schedule(tf.range(50)).numpy()
    assert np.allclose(got, [one_cycle_lr(s, 50, 0.4, 0.2) for s in range(50)], atol=1e-7)


def test_predict_scores_with_flip_tta_averages_the_two_views():
    model = T.cifar_net(widths=(4, 4, 4), stem_width=4)
    X = np.random.randn(3, 32, 32, 3).astype(np.float32)
    expected = (model(X, training=False).numpy() + model(X[:, :, ::-1], training=False).numpy()) / 2
    assert np.allclose(T.predict_scores(model, X, tta=True), expected, atol=1e-5)
    assert T.accuracy(model, X, expected.argmax(1), tta=True) == 1.0


def test_train_open_ended_fits_a_tiny_problem():
    y = np.arange(48) % 2
    X = (np.random.randn(48, 32, 32, 3) + y[:, None, None, None]).astype(np.float32)
    data = {"X_train": X, "y_train": y, "X_val": X[:16], "y_val": y[:16]}
    model = T.cifar_net(widths=(8, 8, 8), stem_width=4, num_classes=2)
    history = T.train_open_ended(model, data, epochs=2, batch_size=16, learning_rate=0.05, verbose=0)
    assert len(history["loss"]) == len(history["val_acc"]) == 2
    assert history["loss"][-1] < history["loss"][0] and history["images_per_second"] > 0
    with pytest.raises(ValueError, match="batch"):
        T.train_open_ended(model, data, batch_size=64, verbose=0)


def test_open_ended_dataset_batches_augments_and_one_hots():
    data = {"X_train": np.random.randn(20, 32, 32, 3).astype(np.float32), "y_train": np.arange(20) % 10}
    dset = T.open_ended_dataset(data, batch_size=8, per_epoch=2, epochs=3, seed=1)
    batches = list(dset)
    assert len(batches) == 6  # per_epoch full batches in each of the epochs
    assert all(x.shape == (8, 32, 32, 3) and y.shape == (8, 10) for x, y in batches)
    assert all(np.array_equal(y.numpy().sum(axis=1), np.ones(8)) for _, y in batches)
    again = list(T.open_ended_dataset(data, batch_size=8, per_epoch=2, epochs=3, seed=1))
    assert all(np.array_equal(a[0].numpy(), b[0].numpy()) for a, b in zip(batches, again, strict=True))


def test_compile_open_ended_sets_the_schedule_and_label_smoothing():
    model = T.cifar_net(widths=(4, 4, 4), stem_width=4)
    optimizer = T.compile_open_ended(model, total_steps=50, learning_rate=0.4, momentum=0.8,
                                     label_smoothing=0.1, warmup_frac=0.2)
    assert model.optimizer is optimizer and optimizer.nesterov
    assert float(optimizer.momentum) == pytest.approx(0.8)
    assert float(optimizer.learning_rate) == pytest.approx(one_cycle_lr(0, 50, 0.4, 0.2))
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)
