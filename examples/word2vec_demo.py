"""Word vectors from a real corpus: train, look up neighbours and analogies, evaluate, save, plot.

The corpus ships with gensim's test data (see examples/README.md): by default
``head500.noblanks.cor``, 250 English Wikipedia articles, one a line, from "Anarchism" on
(331,339 words), lower-cased and Porter-stemmed ("comput", "languag"); ``--corpus lee`` picks
``lee_background.cor`` (59,890 words of Australian news, not stemmed, too small for good
vectors). The model is skip-gram with negative sampling unless told otherwise, with gensim's
defaults (vector_size 100, window 5, min_count 5, sample 1e-3, 5 epochs).

The word-similarity sets (WordSim-353, SimLex-999) and the analogy questions
(questions-words.txt) hold whole words; for the stemmed corpus they are stemmed with gensim's
Porter stemmer first, which keeps 274 of the 353 WordSim pairs in the vocabulary instead of 96.

    python examples/word2vec_demo.py                          # numpy: tables and scores
    python examples/word2vec_demo.py --out word2vec_pca.png   # 2-D PCA map of chosen words
    python examples/word2vec_demo.py --sg 0 --hs 1 --negative 0 --vectors vectors.bin --binary
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import re
import tempfile
import time

import xpnet
from xpnet.word2vec import KeyedVectors, Word2Vec
from xpnet.word2vec.corpus import LineSentence

CORPORA = {"head500": "head500.noblanks.cor", "lee": "lee_background.cor"}
STEMMED = {"head500"}
EVALUATIONS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt",
               "questions-words": "questions-words.txt"}

# Words to show, as they appear in each corpus (head500 is stemmed).
NEIGHBOUR_WORDS = {
    "head500": ["war", "music", "comput", "church", "film", "languag", "german", "actor"],
    "lee": ["police", "government", "australia", "fire", "president", "cricket"],
}
# (a, b, c, expected d), read "a is to b as c is to d": d should top
# most_similar(positive=[b, c], negative=[a]).
ANALOGIES = {
    "head500": [("man", "father", "woman", "mother"), ("franc", "french", "germani", "german"),
                ("franc", "pari", "germani", "berlin"), ("itali", "rome", "japan", "tokyo"),
                ("big", "bigger", "small", "smaller")],
    "lee": [("man", "men", "woman", "women"), ("australia", "australian", "israel", "israeli")],
}
# Groups of words for the PCA map: related words should land near each other.
PCA_GROUPS = {
    "head500": {
        "languages": ["french", "german", "italian", "spanish", "russian", "english", "greek"],
        "music": ["music", "band", "album", "song", "rock", "pop", "jazz"],
        "computing": ["comput", "softwar", "hardwar", "program", "data", "machin", "system"],
        "religion": ["church", "god", "cathol", "christian", "bishop", "religi", "islam"],
        "family": ["father", "mother", "son", "daughter", "wife", "brother", "children"],
    },
    "lee": {
        "security": ["police", "security", "attack", "army", "military", "killed"],
        "politics": ["government", "minister", "president", "election", "party", "leader"],
        "nature": ["fire", "fires", "weather", "wind", "bushfires", "water"],
    },
}


def gensim_test_data(name):
    """Path of a file from gensim's test data (gensim comes with the [examples] extra)."""
    try:
        path = importlib.resources.files("gensim") / "test" / "test_data" / name
    except ModuleNotFoundError as e:
        raise SystemExit(f"word2vec_demo: the corpus ships with gensim ({e}); "
                         f"pip install 'xpnet[examples]'") from e
    if not path.is_file():
        raise SystemExit(f"word2vec_demo: gensim's test data lack {name} ({path})")
    return os.fspath(path)


def load_corpus(name="head500"):
    """The corpus as a list of sentences (lists of words), one per line of the file.

    head500 is already tokenised and lower-cased; the Lee news text is lower-cased here and
    split into words, dropping punctuation (as gensim's ``simple_preprocess`` would).
    """
    if name not in CORPORA:
        raise ValueError(f"load_corpus: unknown corpus {name!r}; expected one of "
                         f"{', '.join(CORPORA)}")
    path = gensim_test_data(CORPORA[name])
    if name == "head500":
        return list(LineSentence(path))
    with open(path, encoding="utf-8") as f:
        return [re.findall(r"[a-z][a-z'-]*[a-z]|[a-z]", line.lower()) for line in f]


def _stem_line(line, stem):
    if line.startswith(("#", ":")) or not line.strip():  # comments and analogy section headers
        return line
    if "\t" in line:  # word pairs: word1 <tab> word2 <tab> score
        first, second, *rest = line.rstrip("\n").split("\t")
        return "\t".join([stem(first.lower()), stem(second.lower()), *rest]) + "\n"
    return " ".join(stem(word.lower()) for word in line.split()) + "\n"


def evaluation_files(corpus, folder):
    """{name: path} of the evaluation sets, written stemmed into ``folder`` for a stemmed corpus
    (the originals otherwise)."""
    if corpus not in STEMMED:
        return {name: gensim_test_data(file) for name, file in EVALUATIONS.items()}
    from gensim.parsing.porter import PorterStemmer

    stem = PorterStemmer().stem
    paths = {}
    for name, file in EVALUATIONS.items():
        paths[name] = os.path.join(folder, f"stemmed-{file}")
        with open(gensim_test_data(file), encoding="utf-8") as source, \
                open(paths[name], "w", encoding="utf-8") as target:
            target.writelines(_stem_line(line, stem) for line in source)
    return paths


def evaluate(wv, files):
    """WordSim-353 and SimLex-999 Spearman x100, analogy accuracy in %, and the share of pairs
    or questions the vocabulary covers."""
    scores = {}
    for name in ("wordsim353", "simlex999"):
        _, spearman, oov_percent = wv.evaluate_word_pairs(files[name])
        scores[name] = (100 * float(spearman[0]), 100 - float(oov_percent))
    accuracy, sections = wv.evaluate_word_analogies(files["questions-words"])
    total = sections[-1]  # gensim's last section sums all the others
    asked = len(total["correct"]) + len(total["incorrect"])
    scores["questions-words"] = (100 * float(accuracy), asked)
    return scores


def train(corpus="head500", sg=1, hs=0, negative=5, epochs=5, vector_size=100, alpha=None,
          seed=1, progress=True):
    """A Word2Vec model of ``corpus``, with gensim's defaults for what is not given."""
    sentences = load_corpus(corpus)
    alpha = alpha if alpha is not None else 0.025
    return Word2Vec(sentences, vector_size=vector_size, window=5, min_count=5, sample=1e-3,
                    sg=sg, hs=hs, negative=negative, alpha=alpha, epochs=epochs, seed=seed,
                    progress=progress)


def print_neighbours(wv, words, topn=5):
    print(f"\nnearest neighbours (cosine similarity), top {topn}:")
    for word in words:
        if word not in wv:
            print(f"  {word:>10}: (not in the vocabulary)")
            continue
        row = ", ".join(f"{other} {similarity:.2f}"
                        for other, similarity in wv.most_similar(word, topn=topn))
        print(f"  {word:>10}: {row}")


def print_analogies(wv, analogies, topn=3):
    print(f"\nanalogies, a : b :: c : ? (top {topn} of b - a + c):")
    results = []
    for a, b, c, expected in analogies:
        if not all(word in wv for word in (a, b, c, expected)):
            print(f"  {a} : {b} :: {c} : ?  (a word is not in the vocabulary)")
            continue
        best = [word for word, _ in wv.most_similar(positive=[b, c], negative=[a], topn=topn)]
        mark = "found" if expected in best else f"{expected!r} not in the top {topn}"
        print(f"  {a} : {b} :: {c} : {', '.join(best)}  ({mark})")
        results.append((expected, best))
    return results


def pca_2d(wv, words):
    """2-D coordinates of ``words`` on the top two principal axes of their unit vectors."""
    backend = wv.backend
    xp = backend.xp
    index = xp.asarray([wv.key_to_index[word] for word in words], dtype=xp.int64,
                       device=backend.device)
    rows = xp.take(wv.vectors, index, axis=0)
    rows = rows / xp.linalg.vector_norm(rows, axis=1, keepdims=True)
    centred = rows - xp.mean(rows, axis=0, keepdims=True)
    # The principal axes are the eigenvectors of the scatter matrix with the largest
    # eigenvalues; eigh sorts them in ascending order, so the last two columns.
    _, axes = xp.linalg.eigh(xp.matmul(centred.mT, centred))
    size = axes.shape[1]
    top_two = xp.asarray([size - 1, size - 2], dtype=xp.int64, device=backend.device)
    coordinates = xp.matmul(centred, xp.take(axes, top_two, axis=1))  # torch has no step -1
    return backend.to_numpy(coordinates).tolist()


def plot(path, wv, groups, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = {group: [w for w in words if w in wv] for group, words in groups.items()}
    words = [w for group_words in chosen.values() for w in group_words]
    points = dict(zip(words, pca_2d(wv, words)))
    fig, ax = plt.subplots(figsize=(8, 6.5))
    for group, group_words in chosen.items():
        xs = [points[w][0] for w in group_words]
        ys = [points[w][1] for w in group_words]
        ax.scatter(xs, ys, label=group, s=25)
        for word, x, y in zip(group_words, xs, ys):
            ax.annotate(word, (x, y), fontsize=8, xytext=(3, 3), textcoords="offset points")
    ax.set(title=title, xlabel="first principal component", ylabel="second principal component")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_vectors(wv, path, binary):
    """Write the C tool's format and check that it reads back (with gensim too, when present)."""
    wv.save_word2vec_format(path, binary=binary)
    again = KeyedVectors.load_word2vec_format(path, binary=binary)
    same = again.index_to_key == wv.index_to_key
    line = (f"\n{len(wv):,} vectors of size {wv.vector_size} written to {path} "
            f"({'binary' if binary else 'text'} word2vec format); read back by xpnet: "
            f"{'same words' if same else 'DIFFERENT WORDS'}")
    try:
        from gensim.models import KeyedVectors as GensimKeyedVectors
    except ImportError:
        print(line)
        return
    theirs = GensimKeyedVectors.load_word2vec_format(path, binary=binary)
    print(f"{line}; by gensim: {len(theirs):,} words, "
          f"'{wv.index_to_key[0]}' -> {theirs.most_similar(wv.index_to_key[0], topn=1)[0][0]!r}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", default=None)
    parser.add_argument("--corpus", choices=sorted(CORPORA), default="head500")
    parser.add_argument("--sg", type=int, choices=(0, 1), default=1, help="1 skip-gram, 0 CBOW")
    parser.add_argument("--hs", type=int, choices=(0, 1), default=0,
                        help="1 hierarchical softmax")
    parser.add_argument("--negative", type=int, default=5, help="0 turns negative sampling off")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--vector-size", type=int, default=100)
    parser.add_argument("--alpha", type=float, default=None, help="default 0.025 (gensim's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--vectors", default=None,
                        help="where to save the vectors (default: a temporary folder)")
    parser.add_argument("--binary", action="store_true", help="binary word2vec format")
    parser.add_argument("--out", default=None, help="PNG of a 2-D PCA map of chosen words")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    if args.backend:
        xpnet.use_backend(args.backend)
    start = time.perf_counter()
    model = train(args.corpus, args.sg, args.hs, args.negative, args.epochs, args.vector_size,
                  args.alpha, args.seed, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    wv = model.wv
    mode = ("skip-gram" if args.sg else "CBOW") + (" + hierarchical softmax" if args.hs else "") \
        + (f" + negative sampling ({args.negative})" if args.negative else "")
    print(f"backend {xpnet.get_backend()!r}: {mode} on {CORPORA[args.corpus]} "
          f"({model.corpus_total_words:,} words, {len(wv):,} in the vocabulary), "
          f"{args.epochs} epochs in {seconds:.1f} s "
          f"({model.corpus_total_words * args.epochs / seconds / 1e3:,.0f}k words/s)")

    print_neighbours(wv, NEIGHBOUR_WORDS[args.corpus])
    analogies = print_analogies(wv, ANALOGIES[args.corpus])
    with tempfile.TemporaryDirectory() as folder:
        scores = evaluate(wv, evaluation_files(args.corpus, folder))
        stemmed = " (stemmed)" if args.corpus in STEMMED else ""
        print(f"\nevaluation{stemmed}:")
        for name in ("wordsim353", "simlex999"):
            spearman, covered = scores[name]
            print(f"  {name:>15}: Spearman x100 {spearman:5.1f} on the {covered:.0f}% of pairs "
                  f"in the vocabulary")
        accuracy, asked = scores["questions-words"]
        print(f"  {'questions-words':>15}: accuracy {accuracy:.1f}% on {asked:,} questions in "
              f"the vocabulary")
        vectors = args.vectors or os.path.join(folder, "vectors" + (".bin" if args.binary
                                                                    else ".txt"))
        save_vectors(wv, vectors, args.binary)
    if args.out:
        plot(args.out, wv, PCA_GROUPS[args.corpus],
             f"word2vec, {mode}, on {CORPORA[args.corpus]}\n2-D PCA of chosen words")
        print(f"figure written to {args.out}")
    return {"model": model, "scores": scores, "analogies": analogies, "seconds": seconds}


if __name__ == "__main__":
    main()
