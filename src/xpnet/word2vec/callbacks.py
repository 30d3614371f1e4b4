"""Training callbacks with gensim's hook names."""

from __future__ import annotations

__all__ = ["CallbackAny2Vec"]


class CallbackAny2Vec:
    """Base class of training callbacks; override the hooks you need.

    `Word2Vec.train` calls, in order: ``on_train_begin(model)``, then for each epoch
    ``on_epoch_begin(model)`` and ``on_epoch_end(model)``, and finally ``on_train_end(model)``.

    Examples
    --------
    >>> class LossLogger(CallbackAny2Vec):
    ...     def __init__(self):
    ...         self.losses = []
    ...     def on_epoch_end(self, model):
    ...         self.losses.append(model.get_latest_training_loss())
    """

    def on_epoch_begin(self, model):
        """Called at the start of each epoch."""

    def on_epoch_end(self, model):
        """Called at the end of each epoch."""

    def on_train_begin(self, model):
        """Called once before the first epoch."""

    def on_train_end(self, model):
        """Called once after the last epoch."""
