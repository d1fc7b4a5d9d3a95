#!/usr/bin/env bash
# Download the official CS231n datasets into datasets/ (or $CS231N_DATASETS_DIR).
# Idempotent: what is present and valid is skipped. Resumable: partial downloads
# (*.part) continue where they stopped. Fails with a clear message when offline.
# A dataset's folder (mnist/, cifar-10-batches-py/, coco_captioning/) is created only once
# its download succeeded: the workbook takes a folder with the dataset's files as the
# dataset, so an empty one must not be left behind.
# The embedded bundle datasets/mini/ needs no download; this is for the full data.
set -uo pipefail

DEST="${CS231N_DATASETS_DIR:-$(cd "$(dirname "$0")" && pwd)}"
COURSE="${CS231N_COURSE_URL:-http://cs231n.stanford.edu}"
CIFAR_URL="${CS231N_CIFAR_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz}"
MNIST_URL="${CS231N_MNIST_URL:-https://ossci-datasets.s3.amazonaws.com/mnist}"
MNIST_FILES="train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz"
CIFAR_MD5=c58f30108f718f92721af3b95e74349a
IMAGENET_SHA256=35141609d22457c791e8fbe10c2d3b09ed0d6a04b669173e9fbebb0b4915cd3c
created_dest=0
if [ ! -d "$DEST" ]; then mkdir -p "$DEST" && created_dest=1 || exit 1; fi
cd "$DEST" || exit 1
failed=0

say() { printf '%s\n' "$*"; }

# fetch URL FILE: resumable download to FILE.part, renamed to FILE when complete.
fetch() {
  local url="$1" out="$2" rc
  say "  downloading $url"
  if command -v curl >/dev/null; then
    curl -fL --retry 2 --connect-timeout 15 -C - -o "$out.part" "$url"; rc=$?
  elif command -v wget >/dev/null; then
    wget -q -c -T 15 -O "$out.part" "$url"; rc=$?
  else
    say "ERROR: neither curl nor wget is installed"; return 1
  fi
  if [ $rc -ne 0 ]; then
    if [ -s "$out.part" ]; then
      say "ERROR: could not download $url (exit $rc). Are you offline? The partial download $DEST/$out.part is kept and resumes on the next run."
    else
      rm -f "$out.part"  # wget leaves an empty file: nothing to resume
      say "ERROR: could not download $url (exit $rc). Are you offline?"
    fi
    return 1
  fi
  mv "$out.part" "$out"
}

md5_is() { [ "$(md5sum "$1" | cut -d' ' -f1)" = "$2" ]; }
sha256_is() { [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

get_cifar() {
  local dir=cifar-10-batches-py tgz=cifar-10-python.tar.gz
  if [ -f "$dir/data_batch_1" ] && [ -f "$dir/data_batch_5" ] && [ -f "$dir/test_batch" ]; then
    say "CIFAR-10: present in $DEST/$dir"; return 0
  fi
  say "CIFAR-10:"
  [ -f "$tgz" ] || fetch "$CIFAR_URL" "$tgz" || return 1
  if ! md5_is "$tgz" "$CIFAR_MD5"; then
    say "ERROR: $tgz has the wrong md5 (expected $CIFAR_MD5); deleted it, run again."; rm -f "$tgz"; return 1
  fi
  tar -xzf "$tgz" && rm -f "$tgz"
}

mnist_present() {
  local f
  for f in $MNIST_FILES; do gzip -t "mnist/$f" 2>/dev/null || return 1; done
}

# The four files are staged as mnist.<name> beside mnist/ and moved in together.
get_mnist() {
  local f
  if mnist_present; then say "MNIST: present in $DEST/mnist"; return 0; fi
  say "MNIST:"
  for f in $MNIST_FILES; do
    if gzip -t "mnist/$f" 2>/dev/null || gzip -t "mnist.$f" 2>/dev/null; then continue; fi
    rm -f "mnist.$f"
    fetch "$MNIST_URL/$f" "mnist.$f" || return 1
    gzip -t "mnist.$f" 2>/dev/null || { say "ERROR: $f is corrupt; deleted it, run again."; rm -f "mnist.$f"; return 1; }
  done
  mkdir -p mnist || return 1
  for f in $MNIST_FILES; do
    if [ -f "mnist.$f" ]; then mv "mnist.$f" "mnist/$f" || return 1; fi
  done
}

get_imagenet() {
  local f=imagenet_val_25.npz
  if [ -f "$f" ] && sha256_is "$f" "$IMAGENET_SHA256"; then say "ImageNet val 25: present"; return 0; fi
  say "ImageNet val 25:"
  rm -f "$f"
  fetch "$COURSE/$f" "$f" || return 1
  sha256_is "$f" "$IMAGENET_SHA256" || { say "ERROR: $f has the wrong sha256; deleted it."; rm -f "$f"; return 1; }
}

get_coco() {
  local z=coco_captioning.zip
  if [ -f coco_captioning/coco2014_captions.h5 ] && [ -f coco_captioning/train2014_vgg16_fc7_pca.h5 ]; then
    say "COCO captioning: present"; return 0
  fi
  say "COCO captioning (about 1 GB):"
  [ -f "$z" ] || fetch "$COURSE/$z" "$z" || return 1
  if ! unzip -tq "$z" >/dev/null; then say "ERROR: $z is corrupt; deleted it, run again."; rm -f "$z"; return 1; fi
  unzip -oq "$z" && rm -f "$z"
}

for step in get_cifar get_mnist get_imagenet get_coco; do
  $step || failed=$((failed + 1))
done
if [ $failed -gt 0 ]; then
  # A destination this run created and filled with nothing goes again.
  if [ $created_dest -eq 1 ]; then cd / && rmdir "$DEST" 2>/dev/null; fi
  say "FAILED: $failed dataset(s) could not be fetched (see above). Without network, the notebooks use the embedded bundle datasets/mini/, or set CS231N_DATA to a folder holding the data."
  exit 1
fi
say "All datasets present in $DEST."
