"""Benchmark: HOG + colour histogram features of 10,000 images against the 2018 per-image loop.

Run from the repository root:  python bench/features.py [--quick] [--repeats R]

The features notebook's extraction (HOG and a 10-bin hue histogram of 32x32x3 images with
pixel values 0..255, float64 as load_CIFAR10 gives them), on the harness
(bench/harness.py), interleaved:
- ours: cs231n.features.extract_features with [hog_feature, partial(color_histogram_hsv,
  nbin=10)], which runs the batched variants over chunks of images;
- the 2018 loop: the 2018 starter's extract_features (a Python loop over the images calling
  each feature function on one image) with the 2018 notebook's [hog_feature, lambda img:
  color_histogram_hsv(img, nbin=10)]. Our per-image functions do the course's per-image
  operations (scipy's uniform_filter per orientation, matplotlib's rgb_to_hsv). It is timed
  on a slice of the images and scaled linearly: a Python loop's time is linear in its count.
The images are random pixels: the time of both does not depend on the content.
Bar (issue 16): ours >= 20x faster than the 2018 loop.
"""
from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repo root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.harness import Row, Table
from cs231n.features import color_histogram_hsv, extract_features, hog_feature

TITLE = "HOG + colour histogram features (bench/features.py)"
IMAGES, LOOP_IMAGES = 10_000, 500        # all images, and the 2018 loop's slice of them
QUICK_IMAGES, QUICK_LOOP_IMAGES = 20, 4
NBIN = 10
SPEEDUP = 20                             # the bar: ours at least this many times faster


def extract_features_2018(imgs, feature_fns, verbose=False):
    """The 2018 starter's extract_features: one Python call per image and feature function."""
    num_images = imgs.shape[0]
    if num_images == 0:
        return np.array([])

    # Use the first image to determine feature dimensions
    feature_dims = []
    first_image_features = []
    for feature_fn in feature_fns:
        feats = feature_fn(imgs[0].squeeze())
        assert len(feats.shape) == 1, 'Feature functions must be one-dimensional'
        feature_dims.append(feats.size)
        first_image_features.append(feats)

    # Now that we know the dimensions of the features, we can allocate a single
    # big array to store all features as columns.
    total_feature_dim = sum(feature_dims)
    imgs_features = np.zeros((num_images, total_feature_dim))
    imgs_features[0] = np.hstack(first_image_features).T

    # Extract features for the rest of the images.
    for i in range(1, num_images):
        idx = 0
        for feature_fn, feature_dim in zip(feature_fns, feature_dims, strict=True):
            next_idx = idx + feature_dim
            imgs_features[i, idx:next_idx] = feature_fn(imgs[i].squeeze())
            idx = next_idx
        if verbose and i % 1000 == 0:
            print(f'Done extracting features for {i} / {num_images} images')

    return imgs_features


def main(argv: list[str] | None = None) -> Table:
    args = harness.parse_args(__doc__, argv)
    images, loop_images = (QUICK_IMAGES, QUICK_LOOP_IMAGES) if args.quick else (
        IMAGES, LOOP_IMAGES)
    imgs = np.random.default_rng(0).integers(0, 256, (images, 32, 32, 3)).astype(np.float64)
    ours_fns = [hog_feature, functools.partial(color_histogram_hsv, nbin=NBIN)]
    fns_2018 = [hog_feature, lambda img: color_histogram_hsv(img, nbin=NBIN)]
    loop_slice = imgs[:loop_images]
    with harness.threads() as (n_threads, how):
        t = harness.interleaved({
            "ours": lambda: extract_features(imgs, ours_fns),
            "2018": lambda: extract_features_2018(loop_slice, fns_2018),
        }, args.repeats)

    scale = images / loop_images
    rows = [Row(f"HOG + hue histogram, {images:,} images", "32 x 32 x 3, float64", t["ours"],
                f"the 2018 per-image loop ({loop_images} images, x{scale:g})",
                harness.scaled(t["2018"], scale),
                bar=f">= {SPEEDUP}x faster", bar_max=1 / SPEEDUP)]
    return harness.print_table(Table(TITLE, [
        harness.run_info(n_threads, how, args.repeats, args.quick),
        f"{harness.shape_str(imgs.shape)} random pixels 0..255; {NBIN} hue bins"], rows))


if __name__ == "__main__":
    main()
