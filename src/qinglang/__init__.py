"""qinglang: find illegal financial activity in posts and explain every verdict."""

__version__ = "0.1.0"
ENGINE_VERSION = f"qinglang-{__version__}"
