"""t-SNE (openTSNE) and skip-gram (gensim word2vec) embeddings of the books.

Both are optional: ``pip install "shelfplan[embed]"``. :func:`need` turns a
missing package into one clear line.
"""

from __future__ import annotations

import importlib
import os
import time

import numpy as np
import scipy.sparse as sp

from shelfplan.errors import ParameterError

__all__ = ["need", "tsne_embed", "skipgram_embed", "ENTRANCE_TOKEN"]

#: The word that stands for the entrance in every visit (sentence).
ENTRANCE_TOKEN = "<entrance>"
#: points from which t-SNE's gradient is FFT-interpolated (below: Barnes-Hut)
FFT_MIN = 5000
EXTRA = {"tsne": "openTSNE", "skipgram": "gensim"}


def need(method: str):
    """The package ``method`` needs, imported; a one-line error when it is missing."""
    name = EXTRA[method]
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ParameterError(f"`method` {method} needs the package {name}, which is not "
                             f"installed; install the extra: pip install \"shelfplan[embed]\" "
                             f"(or pip install {name})") from None


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def tsne_embed(P: sp.csr_matrix, *, dim: int = 2, seed=0, n_iter: int = 750,
               deadline: float | None = None) -> tuple[np.ndarray, dict]:
    """t-SNE with the affinities ``P`` (symmetric, any scale; normalised here):
    openTSNE's gradient descent, early exaggeration 12 for the first quarter."""
    need("tsne")
    from openTSNE import TSNEEmbedding, affinity, initialization

    N = P.shape[0]
    A = affinity.PrecomputedAffinities(sp.csr_matrix(P, dtype=np.float64), normalize=True)
    rs = int(np.random.default_rng(seed).integers(2**31 - 1))
    init = initialization.random(N, n_components=dim, random_state=rs)
    # Barnes-Hut below FFT_MIN points (FFT's grid costs more than it saves there)
    method = "fft" if dim <= 2 and N >= FFT_MIN else "bh"
    # one thread: on a busy machine openTSNE's worker threads spin (10x slower measured)
    E = TSNEEmbedding(init, A, negative_gradient_method=method, n_jobs=1,
                      random_state=rs, verbose=False)
    early = max(1, n_iter // 4)
    done = 0
    last = 0.0                                  # seconds of the last chunk: stop before
    while done < n_iter and (done == 0 or deadline is None     # one would overrun
                             or time.monotonic() + last < deadline):
        step = min(n_iter - done, 25)
        t = time.monotonic()
        if done < early:
            E = E.optimize(n_iter=min(step, early - done), exaggeration=12, momentum=0.5)
            done += min(step, early - done)
        else:
            E = E.optimize(n_iter=step, momentum=0.8)
            done += step
        last = time.monotonic() - t
    kl = E.kl_divergence
    return np.asarray(E), {"iterations": done, "of": n_iter,
                           "kl_divergence": None if kl is None else float(kl),
                           "gradient": method}


def skipgram_embed(sentences: list[list[str]], *, dim: int = 3, seed=0, epochs: int = 5,
                   negative: int = 5) -> tuple[dict, dict]:
    """gensim ``Word2Vec`` on the visits as sentences: skip-gram (``sg=1``), negative
    sampling, the window spanning the longest visit, every book kept (``min_count=1``),
    no down-sampling of frequent words (``sample=0``: the entrance token is in every
    sentence). Returns {word: vector} and a record."""
    gensim = need("skipgram")
    window = max(2, max((len(s) for s in sentences), default=2))
    model = gensim.models.Word2Vec(
        sentences=sentences, vector_size=dim, sg=1, hs=0, negative=negative, window=window,
        min_count=1, sample=0, epochs=epochs, workers=_workers(),
        seed=int(np.random.default_rng(seed).integers(2**31 - 1)))
    kv = model.wv
    vectors = {w: kv[w] for w in kv.index_to_key}
    return vectors, {"window": window, "epochs": epochs, "negative": negative,
                     "sentences": len(sentences), "words": len(vectors)}
