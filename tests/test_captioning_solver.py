import numpy as np
import pytest

from cs231n.captioning_solver import CaptioningSolver
from cs231n.classifiers.rnn import CaptioningRNN

pytestmark = pytest.mark.a3


def tiny_captions(num_images=6, T=7, seed=0):
    """A toy corpus in load_coco_data's layout: each image has its own fixed caption."""
    rng = np.random.default_rng(seed)
    words = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "red", "blue", "circle", "square"]
    word_to_idx = {w: i for i, w in enumerate(words)}
    captions = np.zeros((num_images, T), dtype=np.int32)
    for i in range(num_images):
        body = rng.integers(4, len(words), size=T - 3)
        captions[i] = [1, *body, 2, 0]
    return {"train_captions": captions, "train_image_idxs": np.arange(num_images),
            "train_features": rng.standard_normal((num_images, 10)).astype(np.float32),
            "word_to_idx": word_to_idx, "idx_to_word": words}


def test_overfits_a_few_captions_and_samples_them_back():
    np.random.seed(0)
    data = tiny_captions()
    model = CaptioningRNN(data["word_to_idx"], input_dim=10, wordvec_dim=16, hidden_dim=32,
                          cell_type="lstm", dtype=np.float64)
    solver = CaptioningSolver(model, data, update_rule="adam", optim_config={"learning_rate": 2e-2},
                              lr_decay=0.99, batch_size=6, num_epochs=150, verbose=False)
    solver.train()
    assert solver.loss_history[-1] < 0.05 < solver.loss_history[0]
    sampled = model.sample(data["train_features"], max_length=6)
    np.testing.assert_array_equal(sampled[:, :5], data["train_captions"][:, 1:6])


def test_bad_data_is_a_clear_error():
    data = tiny_captions()
    model = CaptioningRNN(data["word_to_idx"], input_dim=10, wordvec_dim=4, hidden_dim=4)
    with pytest.raises(ValueError, match="missing"):
        CaptioningSolver(model, {"train_captions": data["train_captions"]})
    with pytest.raises(ValueError, match="one image per caption"):
        CaptioningSolver(model, {**data, "train_image_idxs": np.arange(3)})
    with pytest.raises(ValueError, match="outside"):
        CaptioningSolver(model, {**data, "train_image_idxs": np.arange(6) + 1})
