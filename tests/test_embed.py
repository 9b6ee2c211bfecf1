"""Embeddings as layout methods (issue 15): SNE, t-SNE, skip-gram; hand-computed values,
gradients against finite differences, feasible layouts, and every bad input."""

from __future__ import annotations

import builtins
import logging

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st
from scipy.optimize import approx_fprime

from conftest import DATA, SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, assert_feasible
from shelfplan.api import baseline, fit
from shelfplan.cli import main
from shelfplan.errors import ParameterError, ShelfplanError
from shelfplan.ingest.synth import generate_loans
from shelfplan.layout import read_layout
from shelfplan.api import load_problem
from shelfplan.solve.embed import learning_deadline
from shelfplan.ingest.loans import read_loans
from shelfplan.solve.embed import ENTRANCE_TOKEN, directions, seat, sentences
from shelfplan.solve.starts import nearest_free
from shelfplan.solve.embed_learn import CHUNK, skipgram_embed, tsne_embed
from shelfplan.solve.embed_sne import (draw_samples, sample_rows, sampled_objective, sne_embed,
                                       sne_objective)
from shelfplan.solve.starts import nearest_sites, snap_to_sites

STACKED = DATA / "stacked_hall.json"


@pytest.fixture(scope="module")
def synth_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("embed") / "synth.csv"
    generate_loans(80, loans_per_item=6, seed=3).to_csv(path, index=False)
    return path


def _graph(N=12, k=30, seed=1):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, N, k)
    b = (a + 1 + rng.integers(0, N - 1, k)) % N
    pairs = pd.DataFrame({"a": a, "b": b}).drop_duplicates()
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    w = rng.random(len(a))
    return a, b, w, np.bincount(a, w, minlength=N)


# --- the SNE objective ------------------------------------------------------------------


def test_sne_objective_by_hand():
    # points 0, 1, 3 on a line, P(0 -> 1) = 1: L = 1 + log(e^-1 + e^-9) = log(1 + e^-8)
    V = np.array([[0.0], [1.0], [3.0]])
    a, b, w = np.array([0]), np.array([1]), np.array([1.0])
    f, g = sne_objective(V, a, b, w, np.bincount(a, w, minlength=3))
    assert f == pytest.approx(np.log1p(np.exp(-8.0)), rel=1e-12)
    assert g.sum() == pytest.approx(0.0, abs=1e-12)       # translation invariant


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_exact_gradient_matches_finite_differences(dim):
    a, b, w, r = _graph()
    V = np.random.default_rng(dim).standard_normal((12, dim)) * 1.5
    f = lambda x: sne_objective(x.reshape(12, dim), a, b, w, r)[0]  # noqa: E731
    g = sne_objective(V, a, b, w, r)[1].ravel()
    assert np.allclose(g, approx_fprime(V.ravel(), f, 1e-6), atol=1e-4, rtol=1e-4)


def test_sampled_gradient_matches_finite_differences():
    a, b, w, r = _graph()
    K = draw_samples(12, 4, np.random.default_rng(0))
    V = np.random.default_rng(5).standard_normal((12, 3))
    f = lambda x: sampled_objective(x.reshape(12, 3), a, b, w, r, K)[0]  # noqa: E731
    g = sampled_objective(V, a, b, w, r, K)[1].ravel()
    assert np.allclose(g, approx_fprime(V.ravel(), f, 1e-6), atol=1e-4, rtol=1e-4)


def test_sampled_objective_by_hand():
    # the case of the exact test, node 0 sampling node 2 (its one non-partner):
    # Z_0 = e^-1 + (3 - 1 - 1) / 1 * e^-9 is exact, so L = log(1 + e^-8) again
    V = np.array([[0.0], [1.0], [3.0]])
    a, b, w = np.array([0]), np.array([1]), np.array([1.0])
    K = np.array([[2], [0], [0]])
    r = np.bincount(a, w, minlength=3)
    f, g = sampled_objective(V, a, b, w, r, K)
    assert f == pytest.approx(np.log1p(np.exp(-8.0)), rel=1e-12)
    assert g == pytest.approx(sne_objective(V, a, b, w, r)[1], abs=1e-12)
    row, col, indptr, c = sample_rows(a, b, K, 3)
    # row 0: its sample 2 (weight 1) then its partner 1; rows 1 and 2: one sample each
    assert row.tolist() == [0, 0, 1, 2] and col.tolist() == [2, 1, 0, 0]
    assert indptr.tolist() == [0, 2, 3, 4] and c.tolist() == [1.0, 1.0, 2.0, 2.0]


def test_sampled_gradient_matches_finite_differences_with_many_partners():
    # rows with several partners and samples that repeat a partner
    a, b, w, r = _graph(N=20, k=120, seed=4)
    K = draw_samples(20, 6, np.random.default_rng(2))
    V = np.random.default_rng(3).standard_normal((20, 2))
    rows = sample_rows(a, b, K, 20)
    f = lambda x: sampled_objective(x.reshape(20, 2), a, b, w, r, K, rows)[0]  # noqa: E731
    g = sampled_objective(V, a, b, w, r, K, rows)[1].ravel()
    assert np.allclose(g, approx_fprime(V.ravel(), f, 1e-6), atol=1e-4, rtol=1e-4)


def test_samples_never_the_node_itself():
    K = draw_samples(50, 49, np.random.default_rng(0))
    assert (K != np.arange(50)[:, None]).all() and K.min() >= 0 and K.max() < 50


def test_sampled_objective_is_bounded_and_pulls_partners_together():
    a, b, w, r = _graph(N=300, k=900)
    V, info = sne_embed((a, b, w, 300), dim=2, exact=False, samples=16, maxiter=60, rounds=3)
    assert info["normaliser"].startswith("sampled") and np.isfinite(V).all()
    assert info["objective"] > 0                       # -sum p log q with q <= 1
    d_pair = np.linalg.norm(V[a] - V[b], axis=1).mean()
    d_any = np.linalg.norm(V[a] - V[np.roll(b, 7)], axis=1).mean()
    assert d_pair < d_any


# --- the time limit ---------------------------------------------------------------------
# (no wall clock asserted: a deadline already past must cut each learner to its first step)


def test_tsne_past_deadline_does_one_chunk():
    a, b, w, _ = _graph(N=60, k=300, seed=2)
    import scipy.sparse as sps
    P = sps.coo_matrix((w, (a, b)), shape=(60, 60)).tocsr()
    _, info = tsne_embed(P + P.T, seed=0, n_iter=400, deadline=0.0)
    assert info["iterations"] == CHUNK and info["planned"] == CHUNK
    assert info["of"] == 400 and info["cut_by_time"]
    _, info = tsne_embed(P + P.T, seed=0, n_iter=60)
    assert info["iterations"] == info["planned"] == 60 and not info["cut_by_time"]
    assert info["early_exaggeration"] == 15


def test_skipgram_past_deadline_trains_one_epoch():
    sent = [[ENTRANCE_TOKEN, str(k % 7), str((k * 3) % 7)] for k in range(50)]
    _, info = skipgram_embed(sent, seed=0, epochs=4, deadline=0.0)
    assert (info["epochs"], info["of"]) == (1, 4)
    _, info = skipgram_embed(sent, seed=0, epochs=4)
    assert info["epochs"] == 4


def test_sne_past_deadline_stops_after_the_first_iteration():
    a, b, w, _ = _graph(N=300, k=900)
    _, info = sne_embed((a, b, w, 300), dim=2, exact=False, samples=8, deadline=0.0)
    assert info["rounds"] == 1 and info["iterations"] <= 1
    a, b, w, _ = _graph(N=30, k=90)
    _, info = sne_embed((a, b, w, 30), dim=2, deadline=0.0)
    assert info["normaliser"] == "exact" and info["iterations"] <= 1


def test_deadline_keeps_time_for_the_assignment():
    # a second and 1.5 times the reading (here 4 s) are kept back from the 50 s
    assert learning_deadline(100.0, 50.0, 104.0) == pytest.approx(143.0)
    assert learning_deadline(100.0, 50.0, 100.0) == pytest.approx(149.0)
    assert learning_deadline(100.0, 5.0, 104.0) == pytest.approx(101.0)      # never less than 1 s


# --- orientation, sentences, seating ----------------------------------------------------


def test_directions_put_the_widest_empty_sector_at_the_wall():
    # points at angles 0, 90 and 180 degrees: the empty sector is 180..360, so the
    # angles map to 0..pi with the seam there
    Y = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0]])
    r, phi, height = directions(Y)
    assert r == pytest.approx([1, 2, 3])
    assert ((phi >= 0) & (phi <= np.pi)).all()
    assert np.sort(np.diff(np.sort(phi))) == pytest.approx([np.pi / 4, np.pi / 4])
    assert (height == 0).all()


def test_sentences_by_hand():
    session = np.array([5, 5, 2, 5, 2, 9])
    item = np.array([1, 0, 2, 1, -1, 3])
    assert sentences(session, item, 4) == [[ENTRANCE_TOKEN, "2"], [ENTRANCE_TOKEN, "0", "1"],
                                           [ENTRANCE_TOKEN, "3"]]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(0, 10_000))
def test_seat_respects_capacities(n, seed):
    rng = np.random.default_rng(seed)
    pick = rng.random((7, 2)) * 10
    cap = rng.integers(1, 9, 7)
    n = min(n, int(cap.sum()))
    loc = seat(rng.random((n, 2)) * 10, rng.random(n), pick, cap)
    assert (np.bincount(loc, minlength=7) <= cap).all() and len(loc) == n


def test_nearest_free_by_hand():
    # points 0, 1, 2 on a line, one slot each; targets at 0.1, 0.2, 0.3 in that order:
    # the first takes 0, the next finds its candidates full (k=1) and takes 1, then 2
    pts = np.array([[0.0, 0], [1, 0], [2, 0]])
    T = np.array([[0.1, 0], [0.2, 0], [0.3, 0]])
    assert nearest_free(T, [0, 1, 2], pts, [1, 1, 1], k=1).tolist() == [0, 1, 2]
    assert nearest_free(T, [2, 1, 0], pts, [2, 1, 1], k=1).tolist() == [1, 0, 0]


# --- layouts ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["sne", "tsne", "skipgram"])
def test_every_method_gives_a_feasible_layout(method, synth_csv):
    lay = fit(synth_csv, SMALL_HALL, method=method, time_limit=8)
    assert lay.solver["method"] == f"embed:{method}"
    assert_feasible(lay.positions, SMALL_HALL)
    assert lay.objective["total"] >= lay.lower_bound["total"]


@pytest.mark.parametrize("method", ["sne", "skipgram"])
def test_every_method_gives_a_shelving_plan(method):
    lay = fit(SAMPLE_LOANS, STACKED, method=method, time_limit=8)
    assert lay.shelved and lay.solver["method"] == f"embed:{method}"
    cap = lay.hall.stacks.capacity
    assert (np.bincount(lay.shelf["loc"], minlength=len(cap)) <= cap).all()
    assert lay.objective["total"] > 0


def test_sne_beats_random_on_the_sample():
    sne = fit(SAMPLE_LOANS, SAMPLE_HALL, method="sne", time_limit=20)
    rnd = baseline("random", SAMPLE_LOANS, SAMPLE_HALL)
    assert sne.objective["total"] < rnd.objective["total"]
    assert sne.solver["embedding"]["normaliser"] == "exact"


def test_no_co_borrowing_falls_back_to_popularity(tmp_path, caplog):
    path = tmp_path / "single.csv"
    path.write_text("patron_id,item_id,timestamp\n" + "".join(
        f"P{k},B{k % 5},2024-01-0{1 + k % 3}T10:00:00\n" for k in range(12)))
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        lay = fit(path, SMALL_HALL, method="sne")
    assert "no co-borrowed pairs" in caplog.text and "popularity" in caplog.text
    pop = baseline("popularity", path, SMALL_HALL)
    assert lay.objective["total"] == pytest.approx(pop.objective["total"])
    assert lay.solver["embedding"] == {"fallback": "popularity order"}


# --- bad input --------------------------------------------------------------------------


def test_unknown_method():
    with pytest.raises(ParameterError, match=r"`method` must be one of .*got 'umap'"):
        fit(SAMPLE_LOANS, SAMPLE_HALL, method="umap")


@pytest.mark.parametrize("opts, name", [({"init": "spectral"}, "`init`"),
                                        ({"kicks": 3}, "`kicks`"), ({"tune": True}, "`tune`")])
def test_options_that_do_not_apply(opts, name):
    with pytest.raises(ParameterError, match=f"{name} does not apply to `method` sne"):
        fit(SAMPLE_LOANS, SAMPLE_HALL, method="sne", **opts)


@pytest.mark.parametrize("method, package", [("skipgram", "gensim"), ("tsne", "openTSNE")])
def test_missing_extra_is_one_line(monkeypatch, method, package):
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.split(".")[0] == package:
            raise ImportError(f"No module named {package!r}")
        return real(name, *args, **kwargs)

    import importlib
    monkeypatch.setattr(importlib, "import_module", lambda n: fake(n))
    with pytest.raises(ShelfplanError) as err:        # the environment, not a parameter
        fit(SAMPLE_LOANS, SAMPLE_HALL, method=method)
    msg = str(err.value)
    assert "\n" not in msg and package in msg and 'pip install "shelfplan[embed]"' in msg
    result = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--method", method,
                                       "-o", "x.json"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "--method" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_cli_method_and_a_wrong_option(tmp_path, synth_csv):
    out = tmp_path / "w2v.json"
    result = CliRunner().invoke(main, ["fit", str(synth_csv), "--hall", str(SMALL_HALL),
                                       "--method", "skipgram", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert read_layout(out).solver["method"] == "embed:skipgram"
    bad = CliRunner().invoke(main, ["fit", str(synth_csv), "--method", "sne", "--current",
                                    str(out), "-o", str(tmp_path / "b.json")])
    assert bad.exit_code == 2                       # a usage error
    assert bad.stderr.strip() == ("Error: --current does not apply to --method sne (an "
                                  "embedding is learnt from scratch, with no solver start or "
                                  "search); drop --current or use --method constrained")
