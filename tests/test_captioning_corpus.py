"""The generated captioning corpus: COCO's dict layout, deterministic, captions true of the
rendered pixels (checked by an independent reader of the image), held-out combinations absent
from training, a closed vocabulary, and a checksummed cache."""
import re

import numpy as np
import pytest
from scipy import ndimage

from cs231n import captioning_corpus as C
from cs231n.coco_utils import decode_captions, sample_coco_minibatch

pytestmark = pytest.mark.a3

SIZES = {"num_train_images": 600, "num_val_images": 48, "num_test_images": 48}


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="module")
def corpus(cache_dir):
    pytest.importorskip("torch")
    return C.load_captioning_corpus(**SIZES, seed=0, cache=True, cache_dir=cache_dir)


# --------------------------------------------------------------------------- reading an image

def colour_name(rgb: np.ndarray) -> np.ndarray:
    """Name every pixel by its colour, independently of the generator's palette:
    0 none (grey), 1 red, 2 green, 3 blue, 4 yellow."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    names = np.zeros(rgb.shape[:2], int)
    names[(r > 150) & (g < 100) & (b < 100)] = 1
    names[(g > 120) & (r < 100) & (b < 120)] = 2
    names[(b > 150) & (r < 100) & (g < 130)] = 3
    names[(r > 180) & (g > 150) & (b < 100)] = 4
    return names


def read_objects(img: np.ndarray) -> dict:
    """The shapes in an image, by colour: kind from how much of its bounding box it fills
    (square 1, circle pi/4, triangle 1/2), size from its extent, centre of its pixels."""
    names = colour_name(img)
    objects = {}
    for code, colour in enumerate(("red", "green", "blue", "yellow"), start=1):
        mask = names == code
        if not mask.any():
            continue
        _, n = ndimage.label(mask)
        assert n == 1, f"{n} separate {colour} regions"
        ys, xs = np.nonzero(mask)
        h, w = np.ptp(ys) + 1, np.ptp(xs) + 1
        fill = mask.sum() / (h * w)
        kind = "square" if fill > 0.92 else "triangle" if fill < 0.65 else "circle"
        objects[colour] = {"shape": kind, "size": "small" if max(h, w) <= 16 else "large",
                           "x": xs.mean(), "y": ys.mean()}
    return objects


def caption_is_true(caption: str, objects: dict, size: int = 64) -> bool:
    """Parse a caption of the grammar and check every claim it makes against the objects."""
    words, i = caption.split(), 0

    def noun_phrase(i):
        if words[i] != "a":
            raise ValueError(f"expected 'a' at {i} in {caption!r}")
        has_size = words[i + 1] in ("small", "large")
        size_word = words[i + 1] if has_size else None
        colour, shape = words[i + 1 + has_size], words[i + 2 + has_size]
        obj = objects.get(colour)
        ok = obj is not None and obj["shape"] == shape and size_word in (None, obj["size"])
        return obj, ok, i + 3 + has_size

    if words[:2] == ["there", "is"]:
        i = 2
    prev, ok, i = noun_phrase(i)
    claims = [ok]
    while ok and i < len(words):
        w = words[i]
        if w in ("on", "at"):
            half = words[i + 2]
            claims.append({"left": prev["x"] < size / 2, "right": prev["x"] > size / 2,
                           "top": prev["y"] < size / 2, "bottom": prev["y"] > size / 2}[half])
            i += 3
        elif w in ("left", "right", "above", "below"):
            i += 2 if w in ("left", "right") else 1
            nxt, ok, i = noun_phrase(i)
            if ok:
                claims.append({"left": prev["x"] < nxt["x"], "right": prev["x"] > nxt["x"],
                               "above": prev["y"] < nxt["y"], "below": prev["y"] > nxt["y"]}[w])
            prev = nxt
        elif w == "between":
            a, ok_a, i = noun_phrase(i + 1)
            assert words[i] == "and"
            b, ok_b, i = noun_phrase(i + 1)
            ok = ok_a and ok_b
            if ok:
                claims.append(min(a["x"], b["x"]) < prev["x"] < max(a["x"], b["x"]))
        elif w == "and":
            prev, ok, i = noun_phrase(i + 1)
        else:
            raise ValueError(f"unexpected {w!r} in {caption!r}")
        claims.append(ok)
    return all(claims)


@pytest.fixture(scope="module")
def scenes():
    rng = np.random.default_rng(1)
    return C.sample_scenes(150, rng) + C.sample_scenes(50, rng, test=True)


def test_every_caption_is_true_of_the_rendered_pixels(scenes):
    layouts = set()
    for scene in scenes:
        objects = read_objects(C.render_scene(scene))
        assert len(objects) == len(scene.shapes)
        captions = C.captions_for(scene)
        assert len(captions) == 4 and len(set(captions)) == 4
        for caption in captions:
            assert caption_is_true(caption, objects), caption
        layouts.add(scene.layout)
    assert layouts == set(C.LAYOUTS)


def false_variants(caption: str, objects: dict) -> list[str]:
    """Captions made false by one change: a relation or half reversed, an absent colour,
    another kind of shape, the other size."""
    swap = {"left": "right", "right": "left", "above": "below", "below": "above",
            "top": "bottom", "bottom": "top"}
    out = []
    words = caption.split()
    for j, w in enumerate(words):
        if w in swap and not (w in ("left", "right") and "between" in words):
            out.append(" ".join(words[:j] + [swap[w]] + words[j + 1:]))
    absent = next(c for c in ("red", "green", "blue", "yellow") if c not in objects)
    colour = next(w for w in words if w in objects)
    out.append(re.sub(rf"\b{colour}\b", absent, caption, count=1))
    shape = next(w for w in words if w in C.SHAPES)
    other = next(s for s in C.SHAPES if s != shape)
    out.append(re.sub(rf"\b{shape}\b", other, caption, count=1))
    if "small" in words or "large" in words:
        out.append(caption.replace("small", "SIZE").replace("large", "small").replace("SIZE", "large"))
    return out


def test_the_caption_reader_rejects_false_captions(scenes):
    """The check above can fail: one changed word makes each caption false, and it says so."""
    checked = 0
    for scene in scenes[:60]:
        objects = read_objects(C.render_scene(scene))
        for caption in C.captions_for(scene)[:2]:
            for wrong in false_variants(caption, objects):
                assert not caption_is_true(wrong, objects), wrong
                checked += 1
    assert checked > 200


def test_render_scales_to_any_size(scenes):
    scene = scenes[0]
    big = C.render_scene(scene, 256)
    assert big.shape == (256, 256, 3) and big.dtype == np.uint8
    small, large = read_objects(C.render_scene(scene)), read_objects(big)
    for colour, obj in small.items():
        assert abs(large[colour]["x"] / 4 - obj["x"]) < 1.5 and large[colour]["shape"] == obj["shape"]


# --------------------------------------------------------------------------- splits

def test_held_out_combinations_never_in_train_or_val_and_in_every_test_image(corpus):
    held = [f"{colour} {shape}" for colour, shape in C.HELD_OUT]
    for split in ("train", "val", "test"):
        captions = decode_captions(corpus[f"{split}_captions"], corpus["idx_to_word"])
        per_image = {}
        for caption, idx in zip(captions, corpus[f"{split}_image_idxs"], strict=True):
            per_image.setdefault(int(idx), []).append(any(h in caption for h in held))
        if split == "test":
            assert all(any(v) for v in per_image.values())
        else:
            assert not any(any(v) for v in per_image.values())


def test_held_out_rule_on_many_sampled_scenes():
    rng = np.random.default_rng(2)
    held = set(C.HELD_OUT)
    for scene in C.sample_scenes(2000, rng):
        assert not any((s.colour, s.shape) in held for s in scene.shapes)
    for scene in C.sample_scenes(300, rng, test=True):
        assert any((s.colour, s.shape) in held for s in scene.shapes)


def test_train_val_and_test_images_are_distinct(corpus):
    seen = {img.tobytes() for img in corpus["train_images"]}
    assert len(seen) == SIZES["num_train_images"]
    for split in ("val", "test"):
        assert not any(img.tobytes() in seen for img in corpus[f"{split}_images"])


# --------------------------------------------------------------------------- layout and vocabulary

def test_dict_layout_and_dtypes_match_load_coco_data(corpus):
    V = len(corpus["idx_to_word"])
    assert isinstance(corpus["idx_to_word"], list) and isinstance(corpus["word_to_idx"], dict)
    assert [corpus["word_to_idx"][w] for w in ("<NULL>", "<START>", "<END>", "<UNK>")] == [0, 1, 2, 3]
    assert all(corpus["idx_to_word"][i] == w for w, i in corpus["word_to_idx"].items()) and V == 28
    for split in ("train", "val", "test"):
        n_img = SIZES[f"num_{split}_images"]
        caps, idxs = corpus[f"{split}_captions"], corpus[f"{split}_image_idxs"]
        feats, imgs = corpus[f"{split}_features"], corpus[f"{split}_images"]
        assert caps.dtype == np.int32 and caps.shape == (4 * n_img, 17)
        assert idxs.dtype == np.int32 and idxs.shape == (4 * n_img,) and idxs.max() == n_img - 1
        assert feats.dtype == np.float32 and feats.shape == (n_img, 512) and np.isfinite(feats).all()
        assert imgs.dtype == np.uint8 and imgs.shape == (n_img, 64, 64, 3)
        assert f"{split}_urls" not in corpus
    # the COCO helpers work on it
    captions, features, urls = sample_coco_minibatch(corpus, batch_size=5, split="val")
    assert captions.shape == (5, 17) and features.shape == (5, 512) and urls is None


def test_captions_are_start_words_end_null_and_the_vocabulary_is_closed(corpus):
    w2i = corpus["word_to_idx"]
    for split in ("train", "val", "test"):
        caps = corpus[f"{split}_captions"]
        assert (caps[:, 0] == w2i["<START>"]).all()
        lengths = (caps != w2i["<NULL>"]).sum(axis=1)
        assert (caps[np.arange(len(caps)), lengths - 1] == w2i["<END>"]).all()
        # nothing after the padding starts, no <UNK>, no stray <START>/<END>
        assert all((row[n:] == 0).all() for row, n in zip(caps, lengths, strict=True))
        body = np.concatenate([row[1:n - 1] for row, n in zip(caps, lengths, strict=True)])
        assert body.min() >= 4 and body.max() < len(corpus["idx_to_word"])
    grammar_words = {w for s in C.sample_scenes(300, np.random.default_rng(3)) for c in C.captions_for(s)
                     for w in c.split()}
    assert grammar_words == set(C.WORDS)


def test_features_pca_fitted_on_train(corpus):
    train, val = corpus["train_features"], corpus["val_features"]
    assert np.allclose(train.mean(axis=0), 0, atol=1e-3)  # centred by the train mean
    assert abs((train ** 2).mean() - 1) < 1e-3  # one global scale
    var = train.var(axis=0)
    assert (np.diff(var) <= 1e-4).all()  # principal directions, largest variance first
    cov = np.cov(train.T.astype(np.float64))
    assert np.abs(cov - np.diag(np.diag(cov))).max() < 1e-3  # uncorrelated on train
    assert 0.5 < (val ** 2).mean() < 2


def test_encode_captions_errors():
    _, w2i = C.vocabulary()
    with pytest.raises(ValueError, match=r"words \['purple'\] are not in the vocabulary"):
        C.encode_captions(["a purple circle"], w2i)
    with pytest.raises(ValueError, match="at most 15 fit in length 17"):
        C.encode_captions([" ".join(["a"] * 16)], w2i)


def test_too_few_training_images_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="needs more than 512 images"):
        C.load_captioning_corpus(num_train_images=100, cache_dir=tmp_path)


# --------------------------------------------------------------------------- determinism and cache

def test_same_seed_same_scenes_images_and_captions(corpus):
    """The corpus's images and captions are regenerated exactly from its seed."""
    rng = np.random.default_rng(0)
    seen = set()
    train = C.sample_scenes(SIZES["num_train_images"], rng, exclude=seen)
    val = C.sample_scenes(SIZES["num_val_images"], rng, exclude=seen)
    _, w2i = C.vocabulary()
    again = C._split_arrays(val, w2i)
    assert np.array_equal(again["images"], corpus["val_images"])
    assert np.array_equal(again["captions"], corpus["val_captions"])
    assert np.array_equal(C._split_arrays(train[:20], w2i)["images"], corpus["train_images"][:20])
    other = C.sample_scenes(20, np.random.default_rng(1))
    assert other != train[:20]


def test_features_are_deterministic(corpus):
    pytest.importorskip("torch")
    images = corpus["val_images"][:16]
    a, b = C.squeezenet_grid_features(images), C.squeezenet_grid_features(images)
    assert a.shape == (16, 256 * 9) and np.array_equal(a, b)


@pytest.mark.parametrize("n", [300, 40])  # more samples than features, and fewer
def test_fit_pca_matches_the_svd(n):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 64)) @ np.diag(np.r_[10.0, 5.0, rng.uniform(0.1, 1, 62)]) + 3
    mean, comps = C.fit_pca(X, 8)
    assert np.array_equal(comps, C.fit_pca(X.copy(), 8)[1]) and comps.shape == (64, 8)
    _, _, vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    ref = vt[:8].T * np.sign(vt[:8].T[np.abs(vt[:8].T).argmax(axis=0), np.arange(8)])
    assert np.allclose(mean, X.mean(axis=0)) and np.allclose(comps, ref, atol=1e-8)
    assert abs(comps[0, 0]) > 0.9 and comps[0, 0] > 0  # the largest-variance axis, sign fixed
    with pytest.raises(ValueError, match="needs more than 64 samples"):
        C.fit_pca(X[:64], 64)


def test_cache_is_read_back_identically(corpus, cache_dir, capsys):
    again = C.load_captioning_corpus(**SIZES, seed=0, cache=True, cache_dir=cache_dir)
    assert "read from" in capsys.readouterr().out
    assert set(again) == set(corpus)
    for key, value in corpus.items():
        if isinstance(value, np.ndarray):
            assert np.array_equal(again[key], value) and again[key].dtype == value.dtype, key
        else:
            assert again[key] == value
    assert not list(cache_dir.glob(".*tmp*"))  # no temporary files left behind


def small_fake_corpus() -> dict:
    idx_to_word, word_to_idx = C.vocabulary()
    return {"train_captions": np.ones((4, 17), np.int32), "idx_to_word": idx_to_word,
            "word_to_idx": word_to_idx}


def test_cached_file_with_a_bad_checksum_is_refused(tmp_path):
    path = tmp_path / "corpus.npz"
    C.write_corpus(small_fake_corpus(), path)
    assert C.read_corpus(path)["idx_to_word"][:2] == ["<NULL>", "<START>"]
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(C.CorpusCacheError, match=r"corpus\.npz: checksum mismatch.*Delete it \(rm "):
        C.read_corpus(path)


def test_cached_file_without_its_checksum_is_refused(tmp_path):
    path = tmp_path / "corpus.npz"
    C.write_corpus(small_fake_corpus(), path)
    (tmp_path / "corpus.npz.sha256").unlink()
    with pytest.raises(C.CorpusCacheError, match="no checksum file corpus.npz.sha256"):
        C.read_corpus(path)


def test_load_refuses_a_corrupt_cache_instead_of_using_it(corpus, cache_dir, tmp_path):
    src = next(cache_dir.glob("corpus_v*.npz"))
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    (bad_dir / src.name).write_bytes(src.read_bytes()[:-10])
    (bad_dir / (src.name + ".sha256")).write_bytes((cache_dir / (src.name + ".sha256")).read_bytes())
    with pytest.raises(C.CorpusCacheError, match="checksum mismatch"):
        C.load_captioning_corpus(**SIZES, seed=0, cache=True, cache_dir=bad_dir)


def test_the_corpus_captions_are_true_of_its_own_images(corpus):
    for split in ("val", "test"):
        captions = [" ".join(w for w in c.split() if w not in C.SPECIAL_TOKENS)
                    for c in decode_captions(corpus[f"{split}_captions"], corpus["idx_to_word"])]
        objects = [read_objects(img) for img in corpus[f"{split}_images"]]
        for caption, idx in zip(captions, corpus[f"{split}_image_idxs"], strict=True):
            assert caption_is_true(caption, objects[idx]), (split, idx, caption)
