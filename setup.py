"""Build hook for the optional C speed-up of normalization (``qinglang.text._prescan``).

Everything else is declared in pyproject.toml. The extension is optional: where no C
compiler is at hand the build goes on without it and ``qinglang.text.prescan`` falls
back to the pure-Python passes, which give the same output (tests check both).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "qinglang.text._prescan",
            sources=["src/qinglang/text/_prescan.c"],
            optional=True,
            extra_compile_args=["-O2"],
        )
    ]
)
