"""SqueezeNet 1.1, PyTorch and TensorFlow: layout, pretrained accuracy on the 25 ImageNet images,
agreement of the two frameworks logit by logit and layer by layer, frozen weights, clear errors,
and neither module importing the other framework."""
import os

import numpy as np
import pytest

from cs231n import config, data_utils
from cs231n.classifiers import squeezenet_weights as SW
from tests.conftest import assert_framework_isolation

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
SP = pytest.importorskip("cs231n.classifiers.squeezenet_pytorch")
ST = pytest.importorskip("cs231n.classifiers.squeezenet_tensorflow")

pytestmark = pytest.mark.a3

# The two frameworks compute the same float32 network with different kernels and summation
# orders. Measured on the 25 images: max |logit difference| about 1e-5 for logits up to ~46.
LOGIT_ATOL = 1e-3


@pytest.fixture(scope="module")
def imagenet():
    X, y, _ = data_utils.load_imagenet_val()
    return X, y


@pytest.fixture(scope="module")
def torch_model():
    return SP.load_pretrained_squeezenet()


@pytest.fixture(scope="module")
def tf_model():
    return ST.load_pretrained_squeezenet()


@pytest.fixture(scope="module")
def torch_logits(torch_model, imagenet):
    with torch.no_grad():
        return torch_model(SP.to_tensor(imagenet[0])).numpy()


@pytest.fixture(scope="module")
def tf_logits(tf_model, imagenet):
    return tf_model(SW.preprocess_batch(imagenet[0])).numpy()


# --------------------------------------------------------------------------- layout

def test_state_dict_keys_shapes_and_parameter_count(torch_model, tf_model):
    state = {k: tuple(v.shape) for k, v in torch_model.state_dict().items()}
    assert state == SW.expected_shapes()
    assert SP.count_parameters(torch_model) == SW.NUM_PARAMS == 1_235_496
    assert ST.count_parameters(tf_model) == 1_235_496
    assert len(SW.expected_shapes()) == 52 and list(state)[:3] == [
        "features.0.weight", "features.0.bias", "features.3.squeeze.weight"]


@pytest.mark.parametrize("size", [64, 65, 97, 224])
def test_feature_map_sizes_agree_for_odd_and_even_inputs(torch_model, tf_model, size):
    """Ceil-mode pooling: TensorFlow gives PyTorch's sizes (plain 'same' pooling would not)."""
    x = np.zeros((1, size, size, 3), np.float32)
    with torch.no_grad():
        t_shapes = [tuple(f.shape[2:]) for f in SP.extract_features(torch.zeros(1, 3, size, size), torch_model)]
    k_shapes = [tuple(f.shape[1:3]) for f in ST.extract_features(x, tf_model)]
    assert t_shapes == k_shapes
    if size == 224:
        assert t_shapes[2] == (55, 55) and t_shapes[-1] == (13, 13)


def test_weights_are_the_files_arrays_as_float32(torch_model, tf_model):
    raw = np.load(SW.find_weights_file(), allow_pickle=False)
    w = raw["features.3.expand3x3.weight"]
    assert w.dtype == np.float16
    got = torch_model.features[3].expand3x3.weight
    assert got.dtype == torch.float32 and np.array_equal(got.numpy(), w.astype(np.float32))
    kernel = tf_model.features.layers[3].expand3x3.kernel.numpy()
    assert np.array_equal(kernel, w.astype(np.float32).transpose(2, 3, 1, 0))


def test_frozen_and_in_eval_mode(torch_model, tf_model):
    assert not any(p.requires_grad for p in torch_model.parameters())
    assert not torch_model.training
    assert tf_model.trainable_weights == [] and len(tf_model.weights) == 52
    # Eval mode: dropout is off, so two forward passes agree exactly.
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(torch_model(x), torch_model(x))


# --------------------------------------------------------------------------- pretrained accuracy

def test_pytorch_classifies_the_25_images_as_these_weights_should(torch_logits, imagenet):
    y = imagenet[1]
    assert torch_logits.shape == (25, 1000)
    assert SW.top_k_correct(torch_logits, y, 1) == 13
    assert SW.top_k_correct(torch_logits, y, 5) == 20


def test_tensorflow_classifies_the_25_images_as_these_weights_should(tf_logits, imagenet):
    y = imagenet[1]
    assert SW.top_k_correct(tf_logits, y, 1) == 13
    assert SW.top_k_correct(tf_logits, y, 5) == 20


def test_logits_agree_across_frameworks(torch_logits, tf_logits):
    diff = np.abs(torch_logits - tf_logits).max()
    assert diff < LOGIT_ATOL, f"max |PyTorch - TF| logit difference {diff:.2e}"
    assert (torch_logits.argmax(1) == tf_logits.argmax(1)).all()


def test_every_layer_agrees_across_frameworks(torch_model, tf_model, imagenet):
    X = imagenet[0][:2]
    with torch.no_grad():
        t_feats = [f.numpy().transpose(0, 2, 3, 1) for f in SP.extract_features(SP.to_tensor(X), torch_model)]
    k_feats = [f.numpy() for f in ST.extract_features(SW.preprocess_batch(X), tf_model)]
    assert len(t_feats) == len(k_feats) == 13
    for i, (a, b) in enumerate(zip(t_feats, k_feats, strict=True)):
        assert a.shape == b.shape, f"layer {i}"
        scale = np.abs(a).max()
        assert scale > 0 and np.abs(a - b).max() <= 1e-5 * scale, f"layer {i}"


def test_extract_features_takes_the_model_or_its_features_stack(torch_model, tf_model):
    x = torch.randn(1, 3, 48, 48)
    with torch.no_grad():
        a = SP.extract_features(x, torch_model)
        b = SP.extract_features(x, torch_model.features)
        # Not in-place: the conv output (layer 0) keeps its negative values after the ReLU.
        assert (a[0] < 0).any() and torch.equal(a[1], a[0].clamp(min=0))
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    xk = np.random.randn(1, 48, 48, 3).astype(np.float32)
    c = ST.extract_features(xk, tf_model)
    d = ST.extract_features(xk, tf_model.features)
    assert all(np.array_equal(u.numpy(), v.numpy()) for u, v in zip(c, d, strict=True))


# --------------------------------------------------------------------------- errors

def test_missing_weight_file_is_a_clear_error(tmp_path):
    with pytest.raises(data_utils.DataNotFoundError, match=r"nowhere\.npz.*make data"):
        SP.load_pretrained_squeezenet(tmp_path / "nowhere.npz")


def test_weights_found_nowhere_names_make_data(monkeypatch, tmp_path):
    monkeypatch.setenv("CS231N_DATA", str(tmp_path / "a"))
    monkeypatch.setattr(config, "DATASETS_DIR", tmp_path / "b")
    monkeypatch.setattr(config, "MINI_DIR", tmp_path / "c")
    with pytest.raises(data_utils.DataNotFoundError, match="SqueezeNet 1.1 weights not found.*make data"):
        SW.find_weights_file()
    with pytest.raises(data_utils.DataNotFoundError, match="SqueezeNet 1.1 weights.*not found.*make data"):
        SW.find_weights_file(announce=False)


def test_quiet_lookup_finds_the_same_file_without_recording_a_source(monkeypatch):
    monkeypatch.setattr(config, "sources_used", {})
    assert SW.find_weights_file(announce=False) == SW.find_weights_file(announce=True)
    assert list(config.sources_used) == ["SqueezeNet 1.1 weights"]
    config.sources_used.clear()
    SW.find_weights_file(announce=False)
    assert config.sources_used == {}


def test_corrupt_weight_file_is_a_clear_error(tmp_path):
    raw = bytearray(SW.find_weights_file().read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad = tmp_path / "squeezenet.npz"
    bad.write_bytes(bytes(raw))
    for load in (SP.load_pretrained_squeezenet, ST.load_pretrained_squeezenet):
        with pytest.raises(data_utils.DatasetError, match=r"squeezenet\.npz: checksum mismatch.*git checkout"):
            load(bad)


def test_bad_inputs_are_clear_errors(torch_model, tf_model):
    with pytest.raises(ValueError, match=r"expected uint8 RGB images \(N, H, W, 3\)"):
        SW.preprocess_batch(np.zeros((2, 32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"expects \(N, 3, H, W\)"):
        torch_model(torch.zeros(1, 32, 32, 3))
    with pytest.raises(ValueError, match=r"expects \(N, H, W, 3\)"):
        tf_model(np.zeros((1, 3, 32, 32), np.float32))


# --------------------------------------------------------------------------- framework isolation

def test_neither_module_imports_the_other_framework():
    # Both import squeezenet_weights, so it is checked against both frameworks too.
    assert_framework_isolation((("classifiers.squeezenet_tensorflow", ("torch",)),
                                ("classifiers.squeezenet_pytorch", ("tensorflow", "keras"))))
