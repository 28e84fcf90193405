"""The seed's computation, loop for loop (the researcher's ``best.py`` as its write-up reads).

Per window and per iteration, ``amplitude_to_db`` inside the loop, ``np.interp`` per
window, progressive test k re-running slices 1..k from the mixture, and the greedy search
re-running every prefix from the mixture for every candidate.  Used by
``bench_best.py`` (the method alone) and ``seed_style.py`` (a whole seed-style run).
"""

from __future__ import annotations

import librosa
import numpy as np

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.method.views import apply_view


def ref_slice_step(working_mag, vocal_mag, view, cfg: Config):
    """One slice, as the seed's snippet: loops over windows and iterations."""
    n_bins, n_windows = working_mag.shape
    bins = np.arange(n_bins)
    points = np.linspace(0, n_bins - 1, cfg.n_points)
    mix_view = apply_view(working_mag, view)
    voc_view = apply_view(vocal_mag, view)
    working_mag_db = librosa.amplitude_to_db(working_mag, ref=1.0, amin=cfg.amin)
    eq_curves_db = [np.zeros(cfg.n_points) for _ in range(n_windows)]
    sq = 0.0
    for win_idx in range(n_windows):
        mixture_fp = np.interp(points, bins, mix_view[:, win_idx])
        vocal_fp = np.interp(points, bins, voc_view[:, win_idx])
        mixture_fp_db = librosa.amplitude_to_db(mixture_fp, ref=1.0, amin=cfg.amin)
        for _ in range(cfg.num_iterations):
            vocal_fp_db = librosa.amplitude_to_db(vocal_fp, ref=1.0, amin=cfg.amin)
            adjusted_fp_db = mixture_fp_db + eq_curves_db[win_idx]
            gradient = 2 * (adjusted_fp_db - vocal_fp_db)
            eq_curves_db[win_idx] = eq_curves_db[win_idx] - cfg.learning_rate * gradient
            eq_curves_db[win_idx] = np.clip(eq_curves_db[win_idx], -cfg.clip_db, cfg.clip_db)
        sq += float(np.sum((mixture_fp_db + eq_curves_db[win_idx] - vocal_fp_db) ** 2))
    loss = sq / (cfg.n_points * n_windows)
    refined_mag_db = np.empty_like(working_mag_db)
    for win_idx in range(n_windows):
        eq_full = np.interp(bins, points, eq_curves_db[win_idx])
        refined_mag_db[:, win_idx] = working_mag_db[:, win_idx] + eq_full
    return librosa.db_to_amplitude(refined_mag_db, ref=1.0), loss


def ref_run_sequence(mix_mag, vocal_mag, sequence, cfg):
    """Slices *sequence* one after the other from the mixture: (final magnitude, step losses)."""
    W, losses = mix_mag, []
    for view in sequence:
        W, loss = ref_slice_step(W, vocal_mag, view, cfg)
        losses.append(loss)
    return W, losses


def reference_best(mix_mag, vocal_mag, n_slices, cfg, *, keep=None):
    """Seed-style progressive (test k re-runs 1..k) and greedy (re-runs every prefix).

    Returns ``(progressive losses per k, greedy order, greedy losses)``; with a dict as
    *keep*, also stores the magnitudes ``keep[k]`` and ``keep["greedy"]``.
    """
    progressive = []
    for k in range(1, n_slices + 1):
        W, losses = ref_run_sequence(mix_mag, vocal_mag, range(1, k + 1), cfg)
        progressive.append(losses)
        if keep is not None:
            keep[k] = W
    order, remaining, greedy_losses = [], list(range(1, n_slices + 1)), []
    while remaining:
        scored = {}
        for cand in remaining:
            W, losses = ref_run_sequence(mix_mag, vocal_mag, order + [cand], cfg)
            scored[cand] = (losses[-1], W)
        best = min(remaining, key=lambda c: (scored[c][0], c))
        order.append(best)
        greedy_losses.append(scored[best][0])
        remaining.remove(best)
        if keep is not None and not remaining:
            keep["greedy"] = scored[best][1]
    return progressive, order, greedy_losses
