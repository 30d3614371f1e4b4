"""`Word2Vec.save` and `Word2Vec.load`: the whole model (settings, vocabulary, weights, random
state and counters) as one file of `xpnet.save` (safetensors, JSON metadata, no pickle),
written atomically, that `Word2Vec.load` reads back or memory-maps (`xpnet.word2vec.storage`),
so that training can continue."""

from __future__ import annotations

from xpnet.autograd.tensor import Tensor
from xpnet.files import readable_file
from xpnet.io import load, save

from .errors import WrongFileError
from .storage import load_mapped, mapped_backend, refuse_pickle

__all__ = ["FORMAT", "FORMAT_VERSION", "SETTINGS", "load_model", "save_model"]

FORMAT = "xpnet.word2vec.Word2Vec"
FORMAT_VERSION = 1
# Settings saved with the model and restored by `Word2Vec.load` (trim_rule and callbacks are
# functions and are not saved).
SETTINGS = ("vector_size", "alpha", "window", "min_count", "max_vocab_size", "sample", "seed",
            "workers", "min_alpha", "sg", "hs", "negative", "ns_exponent", "cbow_mean", "epochs",
            "null_word", "sorted_vocab", "batch_words", "compute_loss", "shrink_windows",
            "max_final_vocab")


_KEYED_VECTORS_FORMAT = "xpnet.KeyedVectors"  # what formats.save_native writes


def save_model(model, path):
    """Write ``model`` to ``path`` (`Word2Vec.save`)."""
    wrap = lambda a: None if a is None else Tensor._make(a, model._backend)  # noqa: E731
    lockf = model.wv.vectors_lockf
    state = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "settings": {name: getattr(model, name) for name in SETTINGS},
        "index_to_key": list(model.wv.index_to_key), "counts": list(model._counts),
        "sample_int": list(model._sample_int),
        "vectors": wrap(model.wv.vectors), "syn1neg": wrap(model.syn1neg),
        "syn1": wrap(model.syn1),
        "vectors_lockf": wrap(lockf),
        "generators": {name: g.get_state() for name, g in model._generators.items()},
        "counters": {"corpus_count": model.corpus_count,
                     "corpus_total_words": model.corpus_total_words,
                     "effective_min_count": model.effective_min_count,
                     "min_alpha_yet_reached": model.min_alpha_yet_reached,
                     "running_training_loss": model.running_training_loss,
                     "train_count": model.train_count,
                     "total_train_time": model.total_train_time},
        "empty_vocabulary": model._empty_vocabulary,
    }
    save(state, path)


def load_model(cls, path, mmap=None, backend=None):
    """A new ``cls`` from what `save_model` wrote (`Word2Vec.load`)."""
    path = readable_file("Word2Vec.load", path)
    try:
        if mmap is not None:
            backend = mapped_backend("Word2Vec.load", mmap, backend).name
            state = load_mapped(path, mmap, "Word2Vec.load")
        else:
            state = load(path, backend=backend)
    except ValueError:
        refuse_pickle(path, "Word2Vec.load")
        raise
    found = state.get("format") if isinstance(state, dict) else type(state).__name__
    if found != FORMAT:
        hint = ("; it holds KeyedVectors: use KeyedVectors.load" if found == _KEYED_VECTORS_FORMAT
                else "")
        raise WrongFileError(f"Word2Vec.load: {path} holds no Word2Vec model (format "
                             f"{found!r}){hint}")
    if state.get("version") != FORMAT_VERSION:
        raise ValueError(f"Word2Vec.load: {path} has model format version "
                         f"{state.get('version')!r}; this xpnet reads {FORMAT_VERSION}")
    settings = state["settings"]
    model = cls(**settings, backend=backend)
    model._install_vocab(state["index_to_key"], state["counts"], state["sample_int"])
    n = len(state["index_to_key"])
    arrays = {name: _raw_array(state.get(name)) for name in ("vectors", "syn1neg", "syn1",
                                                             "vectors_lockf")}
    for name in ("vectors", "syn1neg", "syn1"):
        array = arrays[name]
        if array is not None and tuple(array.shape) != (n, model.vector_size):
            raise ValueError(f"Word2Vec.load: {path} is damaged: {name} has shape "
                             f"{tuple(array.shape)}, expected {(n, model.vector_size)}")
    model.wv.vectors = arrays["vectors"]
    model.syn1neg, model.syn1 = arrays["syn1neg"], arrays["syn1"]
    xp = model._backend.xp
    model.wv.vectors_lockf = (arrays["vectors_lockf"] if arrays["vectors_lockf"] is not None
                              else xp.ones((n,), dtype=xp.float32,
                                           device=model._backend.device))
    for name, generator_state in state["generators"].items():
        model._generators[name].set_state(generator_state)
    for name, value in state["counters"].items():
        setattr(model, name, value)
    model._empty_vocabulary = state.get("empty_vocabulary")
    return model


def _raw_array(value):
    """A loaded Tensor's backend array (mapped loads give arrays already)."""
    return value.array if isinstance(value, Tensor) else value
