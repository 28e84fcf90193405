"""The 19 views: exact names, shapes, non-negativity, and what each responds to."""

import numpy as np
import pytest

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.views import VIEW_NAMES, VIEWS, apply_view, get_view, slice_sequence

EXPECTED = [
    "slice_0_raw",
    "slice_1_horizontal",
    "slice_2_vertical",
    "slice_3_diagonal_up",
    "slice_4_diagonal_down",
    "slice_5_blob",
    "slice_6_harmonic",
    "slice_7_highpass",
    "slice_8_lowpass",
    "slice_9_edge_22",
    "slice_10_edge_45",
    "slice_11_edge_67",
    "slice_12_edge_90",
    "slice_13_edge_112",
    "slice_14_edge_135",
    "slice_15_edge_157",
    "slice_16_laplacian",
    "slice_17_maxpool",
    "slice_18_avgpool",
]


def test_names_are_exact():
    assert list(VIEW_NAMES) == EXPECTED
    assert [v.index for v in VIEWS] == list(range(19))


@pytest.mark.parametrize("k", range(19))
@pytest.mark.parametrize("shape", [(1025, 100), (64, 33), (3, 2, 17, 9)])
def test_shape_and_nonnegative(k, shape):
    S = np.abs(np.random.default_rng(k).standard_normal(shape))
    F = apply_view(S, k)
    assert F.shape == S.shape
    assert np.all(F >= 0) and np.all(np.isfinite(F))


@pytest.mark.parametrize("k", [k for k in range(1, 17) if k != 8])  # 8 keeps the level
def test_filter_views_are_zero_on_flat_input(k):
    F = apply_view(np.full((80, 40), 3.0), k)
    assert np.max(F) < 1e-9


def test_lowpass_and_pools_keep_level():
    S = np.full((80, 40), 3.0)
    for k in (8, 17, 18):
        np.testing.assert_allclose(apply_view(S, k), 3.0)


def _line(kind, n_f=64, n_t=64):
    S = np.zeros((n_f, n_t))
    if kind == "horizontal":
        S[32, :] = 1
    elif kind == "vertical":
        S[:, 32] = 1
    elif kind == "up":
        for t in range(n_t):
            S[t, t] = 1
    elif kind == "down":
        for t in range(n_t):
            S[n_f - 1 - t, t] = 1
    return S


def _energy(k, S):
    return float(np.sum(apply_view(S, k)[8:-8, 8:-8]))


@pytest.mark.parametrize(
    "k,prefers,over",
    [
        (1, "horizontal", "vertical"),
        (2, "vertical", "horizontal"),
        (3, "up", "down"),
        (4, "down", "up"),
    ],
)
def test_oriented_views_prefer_their_orientation(k, prefers, over):
    assert _energy(k, _line(prefers)) > 2 * _energy(k, _line(over))


def test_harmonic_view_prefers_harmonic_stack_over_noise():
    rng = np.random.default_rng(0)
    stack = np.zeros((200, 40))
    stack[16:200:16, :] = 1.0  # partials every 16 bins
    noise = rng.random((200, 40))
    noise *= stack.sum() / noise.sum()  # same total energy
    assert _energy(6, stack) > 3 * _energy(6, noise)


def test_edge_90_responds_to_onsets_not_to_frequency_steps():
    onset = np.zeros((64, 64))
    onset[:, 32:] = 1.0  # level jumps in time
    band = onset.T.copy()  # level jumps in frequency
    assert _energy(12, onset) > 5 * _energy(12, band)
    assert _energy(9, band) > _energy(9, onset)  # 22.5 degrees is closer to a band edge


def test_get_view_errors():
    assert get_view("slice_5_blob").index == 5
    with pytest.raises(ParameterError, match="19"):
        get_view(19)
    with pytest.raises(ParameterError, match="slice_99"):
        get_view("slice_99")
    with pytest.raises(ParameterError, match="n_slices=0"):
        slice_sequence(0)
    assert slice_sequence(3) == (1, 2, 3)
