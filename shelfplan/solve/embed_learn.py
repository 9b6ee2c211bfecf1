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

from shelfplan.errors import ShelfplanError

__all__ = ["need", "tsne_embed", "skipgram_embed", "ENTRANCE_TOKEN"]

#: The word that stands for the entrance in every visit (sentence).
ENTRANCE_TOKEN = "<entrance>"
#: points from which t-SNE's gradient is FFT-interpolated (below: Barnes-Hut)
FFT_MIN = 5000
#: t-SNE iterations between two looks at the clock
CHUNK = 25
#: a chunk starts only if this many times the last one fits (later ones are slower)
SAFETY = 1.5
#: the iterations planned for the time left are costed at this many times the last pace
PACE = 1.2
EXTRA = {"tsne": "openTSNE", "skipgram": "gensim"}


def need(method: str):
    """The package ``method`` needs, imported; a one-line error when it is missing."""
    name = EXTRA[method]
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ShelfplanError(f"`method` {method} needs the package {name}, which is not "
                             f"installed; install the extra: pip install \"shelfplan[embed]\" "
                             f"(or pip install {name})") from None


def _workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def tsne_embed(P: sp.csr_matrix, *, dim: int = 2, seed=0, n_iter: int = 750,
               deadline: float | None = None, method: str = "auto") -> tuple[np.ndarray, dict]:
    """t-SNE with the affinities ``P`` (symmetric, any scale; normalised here):
    openTSNE's gradient descent, early exaggeration 12 for the first quarter.

    With a ``deadline`` the schedule is fitted to the time: every chunk of
    :data:`CHUNK` iterations is timed and, if ``n_iter`` would not fit in the time
    left at that pace, fewer are planned (a quarter of them exaggerated, while the
    exaggeration lasts); a chunk starts only when one more like the last fits."""
    need("tsne")
    from openTSNE import TSNEEmbedding, affinity, initialization

    N = P.shape[0]
    A = affinity.PrecomputedAffinities(sp.csr_matrix(P, dtype=np.float64), normalize=True)
    rs = int(np.random.default_rng(seed).integers(2**31 - 1))
    init = initialization.random(N, n_components=dim, random_state=rs)
    if method == "auto":
        # Barnes-Hut below FFT_MIN points (FFT's grid costs more than it saves there)
        method = "fft" if dim <= 2 and N >= FFT_MIN else "bh"
    # one thread: on a busy machine openTSNE's worker threads spin (10x slower measured)
    E = TSNEEmbedding(init, A, negative_gradient_method=method, n_jobs=1,
                      random_state=rs, verbose=False)
    plan = n_iter
    early = max(1, plan // 4)
    done, last = 0, 0.0
    while done < plan:
        if done and deadline is not None and time.monotonic() + SAFETY * last > deadline:
            break
        step = min(plan - done, CHUNK, early - done if done < early else CHUNK)
        t = time.monotonic()
        if done < early:
            E = E.optimize(n_iter=step, exaggeration=12, momentum=0.5)
        else:
            E = E.optimize(n_iter=step, momentum=0.8)
        done += step
        last = (time.monotonic() - t) * CHUNK / step
        if deadline is not None:            # each chunk's pace re-plans what is left
            fits = int((deadline - time.monotonic()) / (PACE * last / CHUNK))
            plan = max(done, min(n_iter, done + fits))
            if done < early:
                early = max(done, min(n_iter // 4, plan // 4))
    kl = E.kl_divergence
    return np.asarray(E), {"iterations": done, "of": n_iter, "planned": plan,
                           "early_exaggeration": early, "cut_by_time": done < n_iter,
                           "kl_divergence": None if kl is None else float(kl),
                           "gradient": method}


def skipgram_embed(sentences: list[list[str]], *, dim: int = 3, seed=0, epochs: int = 5,
                   negative: int = 5, deadline: float | None = None) -> tuple[dict, dict]:
    """gensim ``Word2Vec`` on the visits as sentences: skip-gram (``sg=1``), negative
    sampling, the window spanning the longest visit, every book kept (``min_count=1``),
    no down-sampling of frequent words (``sample=0``: the entrance token is in every
    sentence). Trained one epoch at a time, the learning rate falling linearly over
    all ``epochs`` as gensim does; with a ``deadline`` an epoch starts only when one
    more like the last fits before it. Returns {word: vector} and a record."""
    gensim = need("skipgram")
    window = max(2, max((len(s) for s in sentences), default=2))
    model = gensim.models.Word2Vec(
        vector_size=dim, sg=1, hs=0, negative=negative, window=window, min_count=1,
        sample=0, epochs=epochs, workers=_workers(),
        seed=int(np.random.default_rng(seed).integers(2**31 - 1)))
    model.build_vocab(sentences)
    hi, lo = model.alpha, model.min_alpha
    done, last = 0, 0.0
    while done < epochs:
        if done and deadline is not None and time.monotonic() + 1.2 * last > deadline:
            break
        t = time.monotonic()
        model.train(sentences, total_examples=model.corpus_count, epochs=1,
                    start_alpha=hi - (hi - lo) * done / epochs,
                    end_alpha=hi - (hi - lo) * (done + 1) / epochs)
        done += 1
        last = time.monotonic() - t
    kv = model.wv
    vectors = {w: kv[w] for w in kv.index_to_key}
    return vectors, {"window": window, "epochs": done, "of": epochs, "negative": negative,
                     "sentences": len(sentences), "words": len(vectors)}
