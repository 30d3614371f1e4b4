"""Distance functions of ``torch.nn.functional``: `cosine_similarity` and `pairwise_distance`
(they live in `xpnet.ops.distance`, beside `xpnet.cdist`, and are also ``xpnet.<name>``)."""

from xpnet.ops.distance import cosine_similarity, pairwise_distance

__all__ = ["cosine_similarity", "pairwise_distance"]
