#!/usr/bin/env bash
# Set up a fresh GPU VM (e.g. a Google Cloud Deep Learning VM with an NVIDIA driver) for the workbook.
# Installs the GPU builds of PyTorch and TensorFlow instead of the CPU builds pinned in requirements.txt.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v nvidia-smi >/dev/null || ! nvidia-smi >/dev/null 2>&1; then
  echo "ERROR: no working NVIDIA driver (nvidia-smi failed). Install the driver first, then rerun." >&2
  exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv

python3 -m venv .venv
# Everything but the CPU-only TensorFlow; PyPI's torch==2.13.0 for Linux is the CUDA build.
grep -v '^tensorflow-cpu' requirements.txt > /tmp/requirements-gpu.txt
.venv/bin/pip install -r /tmp/requirements-gpu.txt "tensorflow[and-cuda]==2.21.0"
.venv/bin/pip install --no-deps --no-build-isolation -e .
.venv/bin/python setup.py build_ext --inplace
touch .venv/.installed build/.im2col_cython.stamp 2>/dev/null || true

.venv/bin/python - <<'PY'
import torch, tensorflow as tf
print("torch", torch.__version__, "CUDA:", torch.cuda.is_available())
print("tensorflow", tf.__version__, "GPUs:", tf.config.list_physical_devices("GPU"))
PY
echo "Ready: make lab (or make run CS231N_DATA=...)"
