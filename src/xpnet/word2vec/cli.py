"""``xpnet-word2vec``: train word vectors from the command line, with the original C tool's flags.

The flags, their defaults and their meanings are those of Mikolov's ``word2vec.c``, so scripts
written for it run unchanged::

    xpnet-word2vec -train text8 -output vectors.bin -cbow 1 -size 200 -window 8 -negative 25 \\
        -hs 0 -sample 1e-4 -threads 20 -binary 1 -iter 15

The corpus is plain text, words separated by whitespace, one sentence per line (gensim's
``LineSentence`` format). The vectors are written in the C tool's text or binary format, which
gensim's ``KeyedVectors.load_word2vec_format`` and the C tool's ``distance`` read. Progress
(words per second, learning rate, loss) goes to stderr; nothing but errors when ``-debug 0``.

Where this tool differs from the C one:

- ``-threads`` is accepted and passed on as ``Word2Vec(workers=...)``, which xpnet takes for
  gensim compatibility but does not use: training runs in this process, on one core with the
  NumPy fast path (a compiled loop over the training rows, as gensim's Cython) or on the GPU
  with CuPy. The vectors do not depend on it.
- ``--backend`` picks the array library (``numpy``, ``cupy``...; default ``XPNET_BACKEND`` or
  numpy) and ``--seed`` the random seed (the C tool always uses the same one).
- A line is a sentence, cut into pieces of 10,000 words as gensim's ``LineSentence`` does (the
  C tool cuts at 1,000 and counts the newline as a word ``</s>``, which is not in our vocabulary).
- ``-classes``, ``-read-vocab`` and ``-save-vocab`` are not implemented.
- The output file is replaced atomically once training has finished: an interrupted or failed
  run leaves any earlier file with that name untouched (and the temporary file of a run killed
  while writing is removed by the next run). A name ending in ``.gz`` or ``.bz2`` is
  compressed, as gensim's ``save_word2vec_format`` compresses it.

gensim's ``python -m gensim.scripts.word2vec_standalone`` spellings work too: ``-min_count``
for ``-min-count``, ``-accuracy FILE`` (after training, the accuracy on an analogy file in the
questions-words format, on stderr), and no ``-output``: then, as that script, the model is
saved to ``<train name up to its first dot>.model`` (`Word2Vec.save`) and the vectors beside
it as ``.model.txt`` (or ``.model.bin`` with ``-binary 1``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .callbacks import CallbackAny2Vec

__all__ = ["build_parser", "main", "word2vec_settings"]

_PROG = "xpnet-word2vec"


def _integer(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def _non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _switch(text):
    if text not in ("0", "1"):
        raise argparse.ArgumentTypeError(f"expected 0 or 1, got {text!r}")
    return int(text)


def build_parser():
    """The argument parser (single-dash long flags, as the C tool spells them)."""
    parser = argparse.ArgumentParser(
        prog=_PROG, allow_abbrev=False,  # the C tool has no abbreviations; -s must not mean -size
        description="Train word vectors (CBOW or skip-gram, negative sampling or hierarchical "
                    "softmax) with the original word2vec tool's flags, on any xpnet backend.",
        epilog="Example: xpnet-word2vec -train corpus.txt -output vectors.txt -cbow 0 -size 100 "
               "-window 5 -negative 5 -hs 0 -sample 1e-3 -iter 5 -min-count 5")
    parser.add_argument("-train", required=True, metavar="FILE",
                        help="text to train on: whitespace-separated words, one sentence a line")
    parser.add_argument("-output", metavar="FILE",
                        help="where to write the word vectors (replaced only when training "
                             "succeeds); without it, gensim's standalone script's files: "
                             "TRAIN.model and TRAIN.model.txt (or .bin)")
    parser.add_argument("-size", type=_integer(1), default=100, metavar="INT",
                        help="dimension of the word vectors (default 100)")
    parser.add_argument("-window", type=_integer(1), default=5, metavar="INT",
                        help="max distance between the current and a predicted word (default 5)")
    parser.add_argument("-sample", type=_non_negative_float, default=1e-3, metavar="FLOAT",
                        help="threshold for down-sampling frequent words; 0 turns it off "
                             "(default 1e-3, useful range 1e-5 to 1e-3)")
    parser.add_argument("-hs", type=_switch, default=0, metavar="0|1",
                        help="1: use hierarchical softmax (default 0)")
    parser.add_argument("-negative", type=_integer(0), default=5, metavar="INT",
                        help="number of negative examples; 0 turns negative sampling off "
                             "(default 5, common values 3 to 10)")
    parser.add_argument("-threads", type=_integer(1), default=12, metavar="INT",
                        help="accepted for compatibility and passed on as Word2Vec(workers=); "
                             "xpnet trains in this process on one core (or the GPU), so it "
                             "changes neither speed nor result (default 12)")
    parser.add_argument("-iter", type=_integer(1), default=5, metavar="INT",
                        help="training epochs (default 5)")
    parser.add_argument("-min-count", "-min_count", dest="min_count", type=_integer(1),
                        default=5, metavar="INT",
                        help="discard words seen fewer times (default 5; -min_count is gensim's "
                             "spelling)")
    parser.add_argument("-alpha", type=_non_negative_float, default=None, metavar="FLOAT",
                        help="starting learning rate (default 0.025 for skip-gram, 0.05 for CBOW)")
    parser.add_argument("-debug", type=_integer(0), default=2, metavar="INT",
                        help="0: print only errors; 1: one line per epoch to stderr; 2: also a "
                             "live progress bar when stderr is a terminal (default 2)")
    parser.add_argument("-binary", type=_switch, default=0, metavar="0|1",
                        help="1: write the vectors in binary form (default 0, text)")
    parser.add_argument("-cbow", type=_switch, default=1, metavar="0|1",
                        help="1: continuous bag of words; 0: skip-gram (default 1)")
    parser.add_argument("-accuracy", default=None, metavar="FILE",
                        help="after training, report the accuracy on the analogies of FILE "
                             "(questions-words format) to stderr, as gensim's standalone script")
    parser.add_argument("--backend", default=None, metavar="NAME",
                        help="xpnet backend: numpy, array_api_strict, torch, cupy[:N] (default: "
                             "XPNET_BACKEND, else numpy)")
    parser.add_argument("--seed", type=_integer(0), default=1,
                        help="random seed for initialisation, windows and sampling (default 1)")
    return parser


def _refuse_abbreviations(parser, argv):
    """argparse (Python 3.11 here) still expands single-dash prefixes (-siz for -size) despite
    allow_abbrev=False; the C tool takes exact flags only, and so do we."""
    known = set(parser._option_string_actions)
    for token in argv:
        if token.startswith("-") and token not in known:
            try:
                float(token)  # a negative number is a value, not a flag
            except ValueError:
                parser.error(f"unrecognized arguments: {token}")


def _check_paths(parser, args):
    """Refuse unusable paths before any training time is spent."""
    if not os.path.exists(args.train):
        parser.error(f"-train: no such file: {args.train!r}")
    if not os.path.isfile(args.train):
        parser.error(f"-train: expected a text file, got a directory or special file: "
                     f"{args.train!r}")
    if not os.access(args.train, os.R_OK):
        parser.error(f"-train: cannot read {args.train!r} (permission denied)")
    if args.accuracy is not None and not os.path.isfile(args.accuracy):
        parser.error(f"-accuracy: no such file: {args.accuracy!r}")
    if args.output is None:
        return
    if os.path.isdir(args.output):
        parser.error(f"-output: expected a file name, got the directory {args.output!r}")
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        parser.error(f"-output: the folder {folder!r} does not exist")
    if not os.access(folder, os.W_OK):
        parser.error(f"-output: cannot write to the folder {folder!r} (permission denied)")


def _first_non_utf8(path):
    """(line number, byte offset, the byte) of the first byte that is not UTF-8 in ``path``."""
    offset = 0
    with open(path, "rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as e:
                return number, offset + e.start, line[e.start:e.start + 1]
            offset += len(line)
    return None, None, None


class _Progress(CallbackAny2Vec):
    """The vocabulary size once, then one line per epoch with words/s, alpha and loss."""

    def __init__(self, alpha, min_alpha, epochs, stream):
        self.alpha, self.min_alpha, self.epochs, self.stream = alpha, min_alpha, epochs, stream
        self.epoch = 0
        self.loss_so_far = 0.0
        self.started = None

    def on_train_begin(self, model):
        self.loss_so_far = 0.0
        print(f"{_PROG}: vocab size {len(model.wv):,}, words in train file "
              f"{model.corpus_total_words:,}", file=self.stream, flush=True)

    def on_epoch_begin(self, model):
        self.started = time.perf_counter()

    def on_epoch_end(self, model):
        seconds = time.perf_counter() - self.started
        self.epoch += 1
        words = getattr(model, "corpus_total_words", None) or 0
        # The learning rate falls linearly over all epochs, so at the end of epoch k of n it is
        # alpha - (alpha - min_alpha) * k / n (as in the C tool and gensim).
        alpha = self.alpha - (self.alpha - self.min_alpha) * self.epoch / self.epochs
        # get_latest_training_loss() sums over the current train() call (as in gensim), so the
        # epoch's own loss is the growth since the previous epoch.
        total = float(model.get_latest_training_loss())
        loss, self.loss_so_far = total - self.loss_so_far, total
        print(f"{_PROG}: epoch {self.epoch}/{self.epochs}: {words:,} words in {seconds:.1f} s "
              f"({words / max(seconds, 1e-9) / 1e3:,.1f}k words/s), alpha {alpha:.6f}, "
              f"loss {loss:.6g}", file=self.stream, flush=True)


def word2vec_settings(args):
    """`Word2Vec` keyword arguments for parsed flags, with the C tool's meanings.

    ``-alpha`` defaults to 0.05 for CBOW and 0.025 for skip-gram, and the learning rate decays
    linearly to ``alpha * 1e-4``, the C tool's floor; CBOW averages its context (``cbow_mean=1``).
    """
    alpha = args.alpha if args.alpha is not None else (0.05 if args.cbow else 0.025)
    return {"vector_size": args.size, "window": args.window, "sample": args.sample,
            "hs": args.hs, "negative": args.negative, "workers": args.threads,
            "epochs": args.iter, "min_count": args.min_count, "alpha": alpha,
            "min_alpha": alpha * 1e-4, "sg": 0 if args.cbow else 1, "cbow_mean": 1,
            "seed": args.seed}


def main(argv=None):
    """Run the tool on ``argv`` (default ``sys.argv[1:]``; paths may be `os.PathLike`); returns 0
    when the vectors are saved.

    Bad flags and unusable paths exit with status 2 and a message naming the flag; a corpus that
    cannot be trained on (empty, or emptied by ``-min-count``) exits with status 1. Either way an
    existing ``-output`` file is left as it was.
    """
    parser = build_parser()
    if argv is not None:  # main([..., pathlib.Path(...)]) from Python: argparse wants str
        argv = [os.fspath(a) if isinstance(a, os.PathLike) else a for a in argv]
    _refuse_abbreviations(parser, sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    _check_paths(parser, args)
    if not args.hs and args.negative == 0:
        parser.error("-hs 0 with -negative 0 leaves nothing to train; use -hs 1 or -negative > 0")
    settings = word2vec_settings(args)

    from xpnet import backend as backends

    try:
        backend = backends.load(args.backend or os.environ.get("XPNET_BACKEND") or "numpy")
    except (ValueError, backends.BackendUnavailableError) as e:
        parser.error(f"--backend: {e}")

    from xpnet.word2vec import Word2Vec

    verbose = args.debug > 0
    callbacks = ([_Progress(settings["alpha"], settings["min_alpha"], args.iter, sys.stderr)]
                 if verbose else [])
    if verbose:
        print(f"{_PROG}: training {'CBOW' if args.cbow else 'skip-gram'} on {args.train} with "
              f"backend {backend.name!r}: size {args.size}, window {args.window}, negative "
              f"{args.negative}, hs {args.hs}, sample {args.sample:g}, alpha "
              f"{settings['alpha']:g}, {args.iter} epochs", file=sys.stderr, flush=True)
    try:
        model = Word2Vec(corpus_file=args.train, compute_loss=verbose, callbacks=callbacks,
                         backend=backend.name,
                         # The live bar (words/s, loss) only on a terminal; epoch lines anywhere.
                         progress=None if args.debug >= 2 else False, **settings)
    except UnicodeDecodeError as e:
        line, offset = getattr(e, "line", None), getattr(e, "byte_offset", None)
        if line is None or offset is None:
            line, offset, byte = _first_non_utf8(args.train)
        else:
            byte = bytes(e.object[e.start:e.start + 1])
        parser.exit(1, f"{_PROG}: error: cannot train on {args.train!r}: expected UTF-8 text, "
                       f"got byte {byte!r} on line {line} (byte offset {offset}); convert the "
                       f"file to UTF-8 first\n")
    except ValueError as e:
        # An empty corpus, or one that -min-count empties.
        parser.exit(1, f"{_PROG}: error: cannot train on {args.train!r}: {e}\n")
    output = args.output
    if output is None:
        # gensim's standalone script: the model and its vectors beside the corpus.
        folder, name = os.path.split(args.train)
        stem = os.path.join(folder, name.split(".")[0])
        output = f"{stem}.model.{'bin' if args.binary else 'txt'}"
        try:
            model.save(f"{stem}.model")
        except OSError as e:
            parser.exit(1, f"{_PROG}: error: could not write {stem + '.model'!r}: {e}\n")
    try:
        # Atomic (xpnet.io's writer): a temporary sibling renamed over the output, and the
        # temporary files of earlier runs killed while writing are removed.
        model.wv.save_word2vec_format(output, binary=bool(args.binary))
    except OSError as e:
        parser.exit(1, f"{_PROG}: error: -output: could not write {output!r}: {e}\n")
    if verbose:
        print(f"{_PROG}: {len(model.wv):,} words x {args.size} written to {output} "
              f"({'binary' if args.binary else 'text'})", file=sys.stderr, flush=True)
    if args.accuracy is not None:
        score, sections = model.wv.evaluate_word_analogies(args.accuracy)
        asked = sum(len(s["correct"]) + len(s["incorrect"]) for s in sections[:-1])
        print(f"{_PROG}: accuracy on {args.accuracy}: {score:.2%} of {asked:,} analogies with "
              f"known words", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
