"""TensorFlow and Keras, imported once without their C++ start-up lines.

Every TensorFlow module of the package imports them from here (``from cs231n._tensorflow import
keras, tf``), so a notebook that imports one of those modules before ``import tensorflow`` shows
no oneDNN/absl banner. Importing this module never imports PyTorch.
"""
import os
import sys
import tempfile

# C++ log lines TensorFlow writes to the stderr file descriptor while it loads, whatever
# TF_CPP_MIN_LOG_LEVEL says (they come before its logging is set up).
_STARTUP_NOISE = ("All log messages before absl::InitializeLog()",
                  "oneDNN custom operations are on", "cpu_feature_guard",
                  "To enable the following instructions")


def import_tensorflow():
    """Import TensorFlow and Keras with their start-up noise filtered out; returns (tf, keras).

    TF_CPP_MIN_LOG_LEVEL=2 (set here unless already set) hides TensorFlow's later INFO and
    WARNING lines. The lines printed while the library loads bypass it, so stderr (the file
    descriptor, which Jupyter captures too) goes to a temporary file during the import;
    every line of it except the known start-up lines is written back to stderr.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras
            import tensorflow as tf
        finally:  # restore stderr and pass on what was not noise, also when the import failed
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = captured.read().decode(errors="replace").splitlines()
            kept = [line for line in lines if not any(noise in line for noise in _STARTUP_NOISE)]
            if kept:
                print("\n".join(kept), file=sys.stderr)
    return tf, keras


tf, keras = import_tensorflow()
