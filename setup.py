"""Builds the optional Cython extension cs231n.im2col_cython.

The extension is optional: when the .pyx file is absent (or fails to build on
a machine without a compiler), the package still installs and imports, and
cs231n.fast_layers falls back to a vectorized numpy path and says so.
"""
from pathlib import Path

from setuptools import setup

PYX = Path(__file__).parent / "cs231n" / "im2col_cython.pyx"


def extensions():
    if not PYX.exists():
        return []
    import numpy
    from Cython.Build import cythonize
    from setuptools import Extension

    ext = Extension(
        "cs231n.im2col_cython",
        ["cs231n/im2col_cython.pyx"],
        include_dirs=[numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        # No contraction of a * b + c into one FMA (with -march flags that allow it):
        # the feature kernels repeat numpy's roundings operation by operation.
        extra_compile_args=["-O3", "-ffp-contract=off"],
    )
    return cythonize([ext], compiler_directives={"language_level": "3"})


setup(ext_modules=extensions())
