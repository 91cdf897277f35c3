"""Build hook for the optional C speed-ups of the scan hot path.

* ``qinglang.text._prescan``: the fold and every normalization guard in one pass;
* ``qinglang.detect._spans``: Hyperscan's byte offsets to character offsets.

Everything else is declared in pyproject.toml. Both are optional: where no C compiler
is at hand the build goes on without them and the pure-Python code runs instead,
which gives the same output (tests compare the two).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "qinglang.text._prescan",
            sources=["src/qinglang/text/_prescan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
        Extension(
            "qinglang.detect._spans",
            sources=["src/qinglang/detect/_spans.c"],
            optional=True,
            extra_compile_args=["-O2"],
        ),
    ]
)
