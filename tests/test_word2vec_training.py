"""Training with worker threads: reproducibility with one worker, the threads, the bounded job
queue, errors raised from a worker or from the corpus, callbacks and the loss with several
workers, and ``wv.vectors_lockf`` on every path. Small corpora keep it fast; the quality with
``workers=2`` is checked against gensim in test_word2vec_quality.py."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import xpnet
from xpnet.word2vec import Word2Vec, training
from xpnet.word2vec.callbacks import CallbackAny2Vec
from xpnet.word2vec.corpus import LineSentence

gensim_utils = pytest.importorskip("gensim.test.utils")
LEE = list(LineSentence(gensim_utils.datapath("lee_background.cor")))[:120]
MODES = {"sg-ns": {"sg": 1, "hs": 0, "negative": 5}, "cbow-ns": {"sg": 0, "hs": 0, "negative": 5},
         "sg-hs": {"sg": 1, "hs": 1, "negative": 0}, "cbow-hs": {"sg": 0, "hs": 1, "negative": 0}}
# About 12,000 words in jobs of about 1,000.
SMALL = {"vector_size": 16, "min_count": 2, "epochs": 2, "batch_words": 1000, "seed": 7,
         "progress": False}


def _weights(model):
    b = model.wv.backend
    return [None if a is None else b.to_numpy(a) for a in (model.wv.vectors, model.syn1neg,
                                                           model.syn1)]


def _needs_compiled_jobs():
    from xpnet.backend.kernels import fast_path_families
    pytest.importorskip("numba", reason="threads train with the compiled NumPy path "
                                        "(pip install 'xpnet[fast]')")
    assert "numpy" in fast_path_families("word2vec_train_job")


class _Recorder:
    """Wraps the job kernel: records the thread of each job, optionally slows or breaks it."""

    def __init__(self, monkeypatch, delay=0.0, fail_at=None):
        self.threads, self.calls, self.delay, self.fail_at = [], 0, delay, fail_at
        self.lock = threading.Lock()
        get_kernel = training.get_kernel

        def recording_get_kernel(name, backend):
            kernel = get_kernel(name, backend)
            if name != "word2vec_train_job":
                return kernel

            def run(*args, **kwargs):
                with self.lock:
                    self.calls += 1
                    call = self.calls
                    self.threads.append(threading.current_thread().name)
                if call == self.fail_at:
                    raise RuntimeError("job failed on purpose")
                time.sleep(self.delay)
                return kernel(*args, **kwargs)
            return run

        monkeypatch.setattr(training, "get_kernel", recording_get_kernel)


@pytest.mark.parametrize("mode", MODES)
def test_one_worker_with_a_seed_is_bit_reproducible(mode):
    runs = [Word2Vec(LEE, workers=1, compute_loss=True, **SMALL, **MODES[mode])
            for _ in range(2)]
    for a, b in zip(_weights(runs[0]), _weights(runs[1])):
        if a is not None:
            np.testing.assert_array_equal(a, b)
    assert runs[0].get_latest_training_loss() == runs[1].get_latest_training_loss() > 0


def test_two_workers_train_every_job_on_worker_threads(monkeypatch):
    _needs_compiled_jobs()
    one = Word2Vec(**SMALL, workers=1, compute_loss=True)
    one.build_vocab(LEE)
    counts_one = one.train(LEE, total_examples=one.corpus_count, epochs=2, compute_loss=True)
    recorder = _Recorder(monkeypatch)
    two = Word2Vec(**SMALL, workers=2, compute_loss=True)
    two.build_vocab(LEE)
    counts_two = two.train(LEE, total_examples=two.corpus_count, epochs=2, compute_loss=True)
    assert recorder.calls >= 20
    assert all(name.startswith("xpnet-word2vec-") for name in recorder.threads)
    # Each job's seed is drawn in corpus order, so downsampling keeps the same words whichever
    # thread trains the job; only the interleaving of the updates differs.
    assert counts_two == counts_one
    assert two.get_latest_training_loss() == pytest.approx(one.get_latest_training_loss(),
                                                           rel=0.05)
    assert two.min_alpha_yet_reached == one.min_alpha_yet_reached
    np.testing.assert_allclose(_weights(two)[0], _weights(one)[0], atol=0.05)


def test_the_job_queue_is_bounded(monkeypatch):
    # One sentence per job and slow jobs: the corpus is read at most queue_factor * workers
    # jobs (plus those in the workers' hands and the one being made) ahead of training.
    _needs_compiled_jobs()
    read = []

    class Corpus:
        def __iter__(self):
            for sentence in LEE:
                read.append(1)
                yield sentence

    model = Word2Vec(**{**SMALL, "batch_words": 1}, workers=2)
    model.build_vocab(LEE)
    recorder = _Recorder(monkeypatch, delay=0.002)
    ahead = []
    kernel_get = training.get_kernel

    def measuring_get_kernel(name, backend):
        kernel = kernel_get(name, backend)

        def run(*args, **kwargs):
            ahead.append(len(read) - recorder.calls)
            return kernel(*args, **kwargs)
        return run if name == "word2vec_train_job" else kernel

    monkeypatch.setattr(training, "get_kernel", measuring_get_kernel)
    model.train(Corpus(), total_examples=len(LEE), epochs=1, queue_factor=2)
    assert recorder.calls == len(LEE)
    assert max(ahead) <= 2 * 2 + 2 + 2


def test_a_failing_job_stops_the_epoch_and_raises_in_the_caller(monkeypatch):
    _needs_compiled_jobs()
    model = Word2Vec(**SMALL, workers=2)
    model.build_vocab(LEE)
    recorder = _Recorder(monkeypatch, fail_at=3)
    with pytest.raises(RuntimeError, match="job failed on purpose"):
        model.train(LEE, total_examples=model.corpus_count, epochs=2)
    assert recorder.calls < 2 * 12  # it stopped within the first epoch
    assert not [t for t in threading.enumerate() if t.name.startswith("xpnet-word2vec-")]


def test_an_error_reading_the_corpus_with_workers_raises_and_keeps_the_trained_weights():
    class BrokenCorpus:
        def __iter__(self):
            yield from LEE[:60]
            raise OSError("disk gone")

    model = Word2Vec(**SMALL, workers=2)
    model.build_vocab(LEE)
    before = _weights(model)[0]
    with pytest.raises(OSError, match="disk gone"):
        model.train(BrokenCorpus(), total_examples=len(LEE), epochs=1)
    assert np.abs(_weights(model)[0] - before).max() > 1e-4
    assert not [t for t in threading.enumerate() if t.name.startswith("xpnet-word2vec-")]


def test_callbacks_and_the_loss_with_two_workers():
    seen = []

    class Recorder(CallbackAny2Vec):
        def on_train_begin(self, model):
            seen.append("train_begin")

        def on_epoch_begin(self, model):
            seen.append("epoch_begin")

        def on_epoch_end(self, model):
            seen.append(("epoch_end", model.get_latest_training_loss()))

        def on_train_end(self, model):
            seen.append("train_end")

    Word2Vec(LEE, **{**SMALL, "epochs": 3}, sg=1, workers=2, compute_loss=True,
             callbacks=[Recorder()])
    assert [s if isinstance(s, str) else s[0] for s in seen] == [
        "train_begin", "epoch_begin", "epoch_end", "epoch_begin", "epoch_end", "epoch_begin",
        "epoch_end", "train_end"]
    per_epoch = np.diff([0.0] + [s[1] for s in seen if isinstance(s, tuple)])
    assert (per_epoch > 0).all() and per_epoch[-1] < per_epoch[0]


def _lockf_paths():
    yield pytest.param("numpy", True, 2, id="numpy-compiled-2-workers")
    yield pytest.param("numpy", False, 1, id="numpy-twin")
    yield pytest.param("array_api_strict:device1", False, 1, id="strict-twin")


@pytest.mark.parametrize("backend_name, fast, workers", list(_lockf_paths()))
@pytest.mark.parametrize("mode", ["sg-ns", "cbow-hs"])
def test_vectors_lockf_zero_freezes_a_word(backend_name, fast, workers, mode):
    corpus = LEE[:50]
    with xpnet.use_fast_paths(fast), xpnet.use_backend(backend_name):
        model = Word2Vec(**SMALL, workers=workers, **MODES[mode])
        model.build_vocab(corpus)
        b = model.wv.backend
        before = _weights(model)[0]
        lockf = np.ones(len(model.wv), dtype=np.float32)
        frozen = [model.wv.key_to_index[w] for w in ("the", "said", "government")]
        lockf[frozen] = 0.0
        model.wv.vectors_lockf = b.asarray(lockf)
        model.train(corpus, total_examples=model.corpus_count, epochs=1)
        after = _weights(model)[0]
    np.testing.assert_array_equal(after[frozen], before[frozen])
    moving = np.ones(len(lockf), dtype=bool)
    moving[frozen] = False
    assert (np.abs(after - before).max(axis=1)[moving][:30] > 0).all()


def test_one_lockf_value_applies_to_every_word_as_in_gensim():
    # gensim's default lockf is np.ones(1) and it reads lockf[index % len(lockf)].
    model = Word2Vec(**SMALL, workers=1)
    model.build_vocab(LEE)
    before, before_out = _weights(model)[0], _weights(model)[1]
    model.wv.vectors_lockf = np.zeros(1, dtype=np.float32)
    model.train(LEE, total_examples=model.corpus_count, epochs=1)
    np.testing.assert_array_equal(_weights(model)[0], before)
    assert np.abs(_weights(model)[1] - before_out).max() > 1e-3  # the output layer learns


def test_an_empty_lockf_is_refused():
    model = Word2Vec(**SMALL)
    model.build_vocab(LEE)
    model.wv.vectors_lockf = np.ones(0, dtype=np.float32)
    with pytest.raises(ValueError, match=r"train: expected wv.vectors_lockf a non-empty 1-D"):
        model.train(LEE, total_examples=model.corpus_count, epochs=1)


def test_read_only_vectors_are_refused_with_a_clear_error():
    _needs_compiled_jobs()
    model = Word2Vec(**SMALL)
    model.build_vocab(LEE[:20])
    vectors = np.array(model.wv.vectors)
    vectors.flags.writeable = False  # as a model loaded with mmap='r'
    model.wv.vectors = vectors
    with pytest.raises(ValueError, match=r"train: wv.vectors is read-only"):
        model.train(LEE[:20], total_examples=20, epochs=1)
