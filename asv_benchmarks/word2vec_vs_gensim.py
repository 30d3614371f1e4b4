"""word2vec training speed and quality: xpnet next to gensim (workers=1 and workers=2).

Equal settings on both sides, gensim's defaults: vector_size 100, window 5, negative 5 (0 with
hierarchical softmax), sample 1e-3, min_count 5, 5 epochs; alpha 0.025 for skip-gram and 0.05
for CBOW (the C tool's defaults; CBOW learns little in 5 epochs at 0.025 on this corpus). The
corpus is gensim's ``head500.noblanks.cor`` (331,339 words, Porter-stemmed Wikipedia), repeated
``--repeat-corpus`` times for a bigger one.

    python asv_benchmarks/word2vec_vs_gensim.py [--threads 1] [--backend numpy]
        [--modes sg-ns cbow-ns sg-hs cbow-hs] [--epochs 5] [--repeat-corpus 1] [--twin]

Prints a markdown table: thousands of raw corpus words per second of training (vocabulary
building excluded, as the C tool and gensim report it), the xpnet/gensim ratios, and the
quality of each trained model: WordSim-353 Spearman x100 and accuracy on questions-words.txt,
both stemmed like the corpus (see examples/word2vec_demo.py). Every implementation first trains
once on a few sentences untimed, so numba's compilation is not counted.

``--threads`` caps the BLAS/OpenMP threads (set before numpy loads; xpnet's NumPy fast path is
a single-threaded numba loop either way). gensim's workers are its own threads and are not
capped by it. ``--twin`` adds xpnet with its fast paths off (the standard-only minibatch kernel
that CuPy runs). With ``--backend cupy`` xpnet trains on the GPU and gensim on the CPU.
"""

import argparse
import os
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


def _xpnet_trainer(backend, fast_paths=True):
    import xpnet
    from xpnet.word2vec import Word2Vec

    def train(corpus, settings, epochs, seed):
        with xpnet.use_fast_paths(fast_paths):
            model = Word2Vec(workers=1, seed=seed, epochs=epochs, backend=backend, progress=False,
                             **COMMON, **settings)
            model.build_vocab(corpus)
            start = time.perf_counter()
            model.train(corpus, total_examples=model.corpus_count, epochs=epochs)
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (default 1)")
    parser.add_argument("--backend", default="numpy", help="xpnet backend (default numpy)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeat-corpus", type=int, default=1,
                        help="concatenate the corpus this many times (default 1: 331k words)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--twin", action="store_true",
                        help="also time xpnet with fast paths off (standard-only kernel)")
    parser.add_argument("--no-quality", action="store_true", help="skip the evaluation columns")
    args = parser.parse_args(argv)
    _set_threads(args.threads)
    demo = _import_helpers()

    import gensim

    import xpnet

    corpus = demo.load_corpus("head500") * args.repeat_corpus
    words = sum(len(sentence) for sentence in corpus)
    implementations = {"gensim w=1": _gensim_trainer(1), "gensim w=2": _gensim_trainer(2),
                       f"xpnet {args.backend}": _xpnet_trainer(args.backend)}
    if args.twin:
        implementations[f"xpnet {args.backend} twin"] = _xpnet_trainer(args.backend, False)
    names = list(implementations)
    print(f"head500.noblanks.cor x{args.repeat_corpus} ({words:,} words), {args.epochs} epochs, "
          f"{', '.join(f'{k} {v}' for k, v in COMMON.items())}; threads={args.threads}; "
          f"gensim {gensim.__version__}, xpnet {xpnet.__version__}; k words/s = thousands of raw "
          f"corpus words per second of train()")
    header = (["mode"] + [f"{name} k words/s" for name in names]
              + [f"{name} / {base}" for name in names[2:] for base in names[:2]])
    if not args.no_quality:
        header += [f"WS353 {name}" for name in names] + [f"analogy % {name}" for name in names]
    print("| " + " | ".join(header) + " |")
    print("|---" * len(header) + "|")
    with tempfile.TemporaryDirectory() as folder:
        files = demo.evaluation_files("head500", folder)
        for mode in args.modes:
            settings = MODES[mode]
            speed, quality = {}, {}
            for name, train in implementations.items():
                train(corpus[:20], settings, 1, args.seed)  # warm-up: compilation, caches
                model, seconds = train(corpus, settings, args.epochs, args.seed)
                speed[name] = words * args.epochs / seconds / 1e3
                if not args.no_quality:
                    quality[name] = _quality(model.wv, files)
            row = [mode] + [f"{speed[name]:,.0f}" for name in names]
            row += [f"{speed[name] / speed[base]:.2f}" for name in names[2:] for base in names[:2]]
            if not args.no_quality:
                row += [f"{quality[name][0]:.1f}" for name in names]
                row += [f"{quality[name][1]:.1f}" for name in names]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
