"""word2vec training speed and quality: xpnet next to gensim, with 1 and 2 worker threads.

Equal settings on both sides, gensim's defaults: vector_size 100, window 5, negative 5 (0 with
hierarchical softmax), sample 1e-3, min_count 5, 5 epochs; alpha 0.025 for skip-gram and 0.05
for CBOW (the C tool's defaults; CBOW learns little in 5 epochs at 0.025 on this corpus). The
corpus is gensim's ``head500.noblanks.cor`` (331,339 words, Porter-stemmed Wikipedia), repeated
``--repeat-corpus`` times for a bigger one, or cut to its first ``--max-words`` words for a quick
run (``./dev gpu-check`` does that).

    python asv_benchmarks/word2vec_vs_gensim.py [--workers 1 2] [--runs 3] [--backend numpy]
        [--modes sg-ns cbow-ns sg-hs cbow-hs] [--epochs 5] [--repeat-corpus 1] [--twin]
        [--max-words N] [--no-quality]
        [--zipf-vocab 10000 200000 --zipf-words 100000]

Each run trains every implementation once, in an order that rotates from run to run (so a busy
machine slows them alike), with seed ``--seed + run``. Prints a markdown table, one row per mode
and worker count: thousands of raw corpus words per second of training (the median over the
runs; vocabulary building excluded, as the C tool and gensim report it), xpnet/gensim, and the
quality of the models, WordSim-353 Spearman x100 and accuracy on questions-words.txt (both
stemmed like the corpus, see examples/word2vec_demo.py) as the mean and the range over the runs'
seeds. Every implementation first trains once on a few sentences untimed, so numba's compilation
is not counted.

``--threads`` caps the BLAS/OpenMP threads (set before numpy loads); the worker threads of both
libraries are their own. ``--twin`` adds xpnet with its fast paths off (the standard-only
minibatch kernel that CuPy and torch run; it trains in one thread). With ``--backend cupy`` xpnet
trains on the GPU and gensim on the CPU.

``--zipf-vocab`` times the standard-only kernel alone (xpnet with fast paths off on
``--backend``, no gensim, no quality) on a synthetic corpus instead: ``--zipf-words`` words
drawn from a Zipf law over each vocabulary size, so its cost can be seen against the
vocabulary.
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# name -> Word2Vec settings that differ between the modes
MODES = {
    "sg-ns": {"sg": 1, "hs": 0, "negative": 5, "alpha": 0.025},
    "cbow-ns": {"sg": 0, "hs": 0, "negative": 5, "alpha": 0.05},
    "sg-hs": {"sg": 1, "hs": 1, "negative": 0, "alpha": 0.025},
    "cbow-hs": {"sg": 0, "hs": 1, "negative": 0, "alpha": 0.05},
}
COMMON = {"vector_size": 100, "window": 5, "sample": 1e-3, "min_count": 5}


def _set_threads(threads):
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def _import_helpers():
    """xpnet from this checkout, and the corpus and evaluation helpers of the demo."""
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT / "examples"))
    import word2vec_demo
    return word2vec_demo


def _gensim_trainer(workers):
    from gensim.models import Word2Vec

    def train(corpus, settings, epochs, seed):
        model = Word2Vec(workers=workers, seed=seed, epochs=epochs, **COMMON, **settings)
        model.build_vocab(corpus)
        start = time.perf_counter()
        model.train(corpus, total_examples=model.corpus_count, epochs=epochs)
        return model, time.perf_counter() - start
    return train


def _xpnet_trainer(backend, workers, fast_paths=True, common=COMMON, vocabulary=None):
    import xpnet
    from xpnet.word2vec import Word2Vec

    def train(corpus, settings, epochs, seed):
        with xpnet.use_fast_paths(fast_paths):
            model = Word2Vec(workers=workers, seed=seed, epochs=epochs, backend=backend,
                             progress=False, **common, **settings)
            if vocabulary is None:
                model.build_vocab(corpus)
            else:
                model.build_vocab_from_freq(vocabulary, corpus_count=len(corpus))
            start = time.perf_counter()
            model.train(corpus, total_examples=len(corpus), epochs=epochs)
            # Reading a value back waits for queued GPU work, so CuPy is timed to the end.
            model.wv.backend.to_numpy(model.wv.vectors[:1, ...])
            return model, time.perf_counter() - start
    return train


def _quality(wv, files):
    """WordSim-353 Spearman x100 and analogy accuracy in %, by xpnet's evaluation for both
    libraries (gensim's own analogy evaluation takes 15-30 s per model)."""
    from xpnet.word2vec import KeyedVectors

    if not isinstance(wv, KeyedVectors):
        vectors = KeyedVectors(wv.vector_size, backend="numpy")
        vectors.add_vectors(list(wv.index_to_key), wv.vectors)
        wv = vectors
    _, spearman, _ = wv.evaluate_word_pairs(files["wordsim353"])
    accuracy, _ = wv.evaluate_word_analogies(files["questions-words"])
    return 100 * float(spearman[0]), 100 * float(accuracy)


def _spread(values):
    return f"{statistics.fmean(values):.1f} [{min(values):.1f}, {max(values):.1f}]"


def _timed_runs(implementations, corpus, settings, epochs, runs, seed):
    """{name: [(model, seconds), ...]}: one run of every implementation per round, the order
    rotated each round."""
    names = list(implementations)
    results = {name: [] for name in names}
    for name in names:  # warm-up: compilation, caches
        implementations[name](corpus[:20], settings, 1, seed)
    for run in range(runs):
        for name in names[run % len(names):] + names[:run % len(names)]:
            results[name].append(implementations[name](corpus, settings, epochs, seed + run))
    return results


def _zipf_table(args, modes):
    """Words/s of the standard-only kernel against the vocabulary size (no gensim)."""
    import numpy as np

    print(f"standard-only kernel (fast paths off) on {args.backend}: {args.zipf_words:,} words "
          f"per epoch drawn from a Zipf law (s=1) over the vocabulary, {args.epochs} epochs, "
          f"vector_size 100, window 5, negative 5 / hs, sample 1e-3, min_count 1; k words/s "
          f"median of {args.runs} runs")
    print("| mode | " + " | ".join(f"vocab {v:,}" for v in args.zipf_vocab) + " |")
    print("|---" * (1 + len(args.zipf_vocab)) + "|")
    common = {**COMMON, "min_count": 1}
    for mode in modes:
        row = [mode]
        for size in args.zipf_vocab:
            rng = np.random.default_rng(args.seed)
            ranks = np.arange(1, size + 1)
            probabilities = (1.0 / ranks) / np.sum(1.0 / ranks)
            counts = np.maximum(1, np.round(probabilities * 10 * args.zipf_words)).astype(int)
            words = [f"w{i}" for i in range(size)]
            tokens = rng.choice(size, args.zipf_words, p=probabilities)
            corpus = [[words[i] for i in tokens[start:start + 20]]
                      for start in range(0, args.zipf_words, 20)]
            vocabulary = dict(zip(words, counts.tolist()))
            train = _xpnet_trainer(args.backend, 1, fast_paths=False, common=common,
                                   vocabulary=vocabulary)
            results = _timed_runs({"twin": train}, corpus, MODES[mode], args.epochs, args.runs,
                                  args.seed)
            seconds = statistics.median(s for _, s in results["twin"])
            row.append(f"{args.zipf_words * args.epochs / seconds / 1e3:,.1f}")
        print("| " + " | ".join(row) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--backend", default="numpy", help="xpnet backend (default numpy)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2],
                        help="worker threads to compare (default 1 2)")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per implementation, seeds --seed .. --seed + runs - 1")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-words", type=int,
                        help="keep only the sentences within the corpus's first N words")
    parser.add_argument("--repeat-corpus", type=int, default=1,
                        help="concatenate the corpus this many times (default 1: 331k words)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--twin", action="store_true",
                        help="also time xpnet with fast paths off (standard-only kernel)")
    parser.add_argument("--no-quality", action="store_true", help="skip the evaluation columns")
    parser.add_argument("--zipf-vocab", nargs="+", type=int,
                        help="time only the standard-only kernel on Zipf corpora over these "
                             "vocabulary sizes")
    parser.add_argument("--zipf-words", type=int, default=100_000)
    args = parser.parse_args(argv)
    _set_threads(args.threads)
    demo = _import_helpers()

    import xpnet

    if args.zipf_vocab:  # needs no gensim
        _zipf_table(args, args.modes)
        return
    import gensim

    corpus = demo.load_corpus("head500") * args.repeat_corpus
    if args.max_words:
        ends = itertools.accumulate(len(sentence) for sentence in corpus)
        corpus = [s for s, end in zip(corpus, ends) if end <= args.max_words]
    words = sum(len(sentence) for sentence in corpus)
    print(f"head500.noblanks.cor x{args.repeat_corpus} ({words:,} words), {args.epochs} epochs, "
          f"{', '.join(f'{k} {v}' for k, v in COMMON.items())}; BLAS threads={args.threads}; "
          f"gensim {gensim.__version__}, xpnet {xpnet.__version__} on {args.backend}; k words/s "
          f"= thousands of raw corpus words per second of train(), median of {args.runs} runs; "
          f"quality: mean [min, max] over seeds {args.seed}..{args.seed + args.runs - 1}")
    header = ["mode", "workers", "gensim k words/s", "xpnet k words/s", "xpnet / gensim"]
    if not args.no_quality:
        header += ["WS353 gensim", "WS353 xpnet", "analogy % gensim", "analogy % xpnet"]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    with tempfile.TemporaryDirectory() as folder:
        files = demo.evaluation_files("head500", folder)
        for mode in args.modes:
            implementations = {}
            for workers in args.workers:
                implementations["gensim", workers] = _gensim_trainer(workers)
                implementations["xpnet", workers] = _xpnet_trainer(args.backend, workers)
            if args.twin:
                implementations["xpnet twin", 1] = _xpnet_trainer(args.backend, 1, False)
            results = _timed_runs(implementations, corpus, MODES[mode], args.epochs, args.runs,
                                  args.seed)
            speed = {name: statistics.median(words * args.epochs / s / 1e3
                                             for _, s in results[name])
                     for name in implementations}
            quality = {} if args.no_quality else {
                name: [_quality(model.wv, files) for model, _ in results[name]]
                for name in implementations}
            rows = [(("gensim", w), ("xpnet", w)) for w in args.workers]
            if args.twin:
                rows.append((("gensim", args.workers[0]), ("xpnet twin", 1)))
            for theirs, ours in rows:
                label = str(ours[1]) if ours[0] == "xpnet" else "1 (xpnet twin)"
                row = [mode, label, f"{speed[theirs]:,.0f}", f"{speed[ours]:,.0f}",
                       f"{speed[ours] / speed[theirs]:.2f}"]
                if not args.no_quality:
                    row += [_spread([q[0] for q in quality[theirs]]),
                            _spread([q[0] for q in quality[ours]]),
                            _spread([q[1] for q in quality[theirs]]),
                            _spread([q[1] for q in quality[ours]])]
                print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
