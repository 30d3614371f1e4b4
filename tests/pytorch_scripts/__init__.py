"""PyTorch training scripts, written as PyTorch users write them, that the tests run twice:
once on torch and once on xpnet with only the import lines changed (tests/test_pytorch_scripts.py).

Each script imports only torch, the standard library, numpy, scikit-learn and gensim, trains on
data that ships in installed packages, and exposes ``build_model``, a data builder, ``train``,
``evaluate`` and ``main(epochs=..., seed=...)`` returning a dict of results.
"""
