"""Shipped model artifacts (``default/``: the model ``qinglang`` uses unless told otherwise).

Artifacts are data, not code: ``model.json`` + ``weights.npz`` (numpy arrays, loaded
without pickle) + ``MODEL_CARD.md``. Load them with
:meth:`qinglang.learn.classifier.TextClassifier.load`; the path of the default one is
:func:`qinglang.learn.classifier.default_model_path`.
"""
