"""Attention on the issue's shapes, float32: forward and forward+backward.

Batch 32, sequence 128, d_model 256, 8 heads: ``scaled_dot_product_attention`` on
(32, 8, 128, 32) queries, keys and values (plain and causal), and a
``TransformerEncoderLayer(256, 8)`` (dim_feedforward 2048, dropout 0, training mode) on
(128, 32, 256). ``asv_benchmarks/attention_vs_torch.py`` times the same cases next to PyTorch.
"""

import xpnet

from .bench_autograd import _activate, _synchronize

BACKENDS = ["numpy", "torch", "cupy"]
BATCH, SEQ, D_MODEL, HEADS = 32, 128, 256, 8
CASES = ["sdpa", "sdpa_causal", "encoder_layer"]


class Attention:
    params = [BACKENDS, CASES]
    param_names = ["backend", "case"]

    def setup(self, backend, case):
        # asv calls teardown even after setup skipped, so keep what to restore first.
        self._previous = xpnet.backend.active()
        _activate(backend)
        generator = xpnet.Generator(0)
        if case == "encoder_layer":
            layer = xpnet.nn.TransformerEncoderLayer(D_MODEL, HEADS, dropout=0.0)
            for p in layer.parameters():
                if p.ndim > 1:
                    xpnet.nn.init.xavier_uniform_(p, generator=generator)
            self.inputs = [xpnet.randn(SEQ, BATCH, D_MODEL, generator=generator,
                                       requires_grad=True)]
            self.weights = list(layer.parameters())
            self.fn = layer
        else:
            shape = (BATCH, HEADS, SEQ, D_MODEL // HEADS)
            self.inputs = [xpnet.randn(*shape, generator=generator, requires_grad=True)
                           for _ in range(3)]
            self.weights = []
            causal = case == "sdpa_causal"

            def fn(q, k, v):
                return xpnet.nn.functional.scaled_dot_product_attention(q, k, v,
                                                                        is_causal=causal)
            self.fn = fn
        self.grad = xpnet.randn(*self.inputs[0].shape, generator=generator)

    def teardown(self, backend, case):
        xpnet.set_backend(self._previous)

    def time_forward(self, backend, case):
        with xpnet.no_grad():
            _synchronize(self.fn(*self.inputs))

    def _forward_backward(self):
        for t in self.inputs + self.weights:
            t.grad = None
        self.fn(*self.inputs).backward(self.grad)
        _synchronize(self.inputs[0].grad)

    def time_forward_backward(self, backend, case):
        self._forward_backward()

    def peakmem_forward_backward(self, backend, case):
        self._forward_backward()

    def track_page_faults_forward_backward(self, backend, case):
        """Pages a warm forward+backward takes fresh from the system (minor faults per step,
        host memory): each costs about a microsecond here, and a step that stops reusing its
        memory shows at once (2,000 faults a step cost the encoder layer 4-7 ms at 2 threads,
        when a 12 MB gradient buffer moved glibc's heap trimming)."""
        import resource  # POSIX only, as asv itself

        for _ in range(2):
            self._forward_backward()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(3):
            self._forward_backward()
        return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 3

    track_page_faults_forward_backward.unit = "faults"
