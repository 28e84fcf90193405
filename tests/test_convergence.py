"""Convergence is visible: the fraction of the dB correction reached, and SI-SDR against
iterations x learning rate (issue 13, item 5)."""

import json

import numpy as np
import pytest

from conv2dsep_lib.core.config import Config
from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.method.strategies import fraction_reached, strategy3_db_descent
from conv2dsep_lib.results.quality import ConvergenceRecord
from conv2dsep_lib.results.record import RunRecord
from conv2dsep_lib.run.convergence import ConvergenceGrid, convergence_grid
from conv2dsep_lib.viz.experiment import plot_convergence_grid


@pytest.mark.parametrize("lr, n", [(0.01, 100), (0.005, 25), (0.05, 7), (0.25, 3), (0.4, 50), (0.7, 5)])
def test_fraction_is_the_unclipped_recursion(lr, n):
    rng = np.random.default_rng(0)
    m, v = rng.normal(-40, 10, (20, 5)), rng.normal(-40, 10, (20, 5))
    e = np.zeros_like(m)
    for _ in range(n):  # the seed's loop, no clip
        e = e - lr * 2 * ((m + e) - v)
    np.testing.assert_allclose(
        e, fraction_reached(learning_rate=lr, iterations=n) * (v - m), rtol=1e-9, atol=1e-9
    )
    # and the optimiser itself, with a clip it never reaches
    fit = strategy3_db_descent(m, v, num_iterations=n, learning_rate=lr, clip_db=1e6)
    np.testing.assert_allclose(fit.eq_db, e, rtol=1e-9, atol=1e-9)


def test_fraction_at_the_seed_defaults_is_87_percent():
    assert fraction_reached(learning_rate=0.01, iterations=100) == pytest.approx(1 - 0.98**100)
    assert round(fraction_reached(learning_rate=0.01, iterations=100), 2) == 0.87
    assert fraction_reached(learning_rate=0.5, iterations=1) == 1.0


def test_the_record_carries_the_fraction_and_the_figures_say_it():
    rec = ConvergenceRecord.of(Config())
    assert rec.fraction_reached == pytest.approx(0.8673804441, abs=1e-9) and rec.iterations == 100
    assert "87 %" in rec.label() and "100 iterations x lr 0.01" in rec.label()
    assert ConvergenceRecord.from_json(json.loads(json.dumps(rec.to_json()))) == rec
    assert ConvergenceRecord.of(Config(strategy=1)).fraction_reached is None
    assert ConvergenceRecord.of(Config(strategy=2)).fraction_reached == 1.0
    # a record written before the field existed derives it from its config
    data = {
        "command": "progressive",
        "n_slices": 1,
        "config": Config(num_iterations=50).to_dict(),
        "progressive": [],
        "loss_vs_quality": {"best_k_by_loss": 1, "agree": False},
    }
    assert RunRecord.from_json(data).convergence.fraction_reached == pytest.approx(1 - 0.98**50)


@pytest.fixture(scope="module")
def grid():
    import conftest

    config = Config(duration=1.2)
    vocal, band = conftest._voice_and_band(config.sr, config.n_samples, 3)
    return convergence_grid(
        vocal + band,
        vocal,
        view=1,
        config=config,
        iterations=(25, 100, 400),
        learning_rates=(0.005, 0.01, 0.25),
    )


def test_grid_shape_labels_and_fraction(grid):
    assert isinstance(grid, ConvergenceGrid) and grid.oracle
    assert grid.si_sdr.shape == grid.fraction.shape == grid.loss.shape == (3, 3)
    assert grid.iterations == (25, 100, 400) and grid.learning_rates == (0.005, 0.01, 0.25)
    assert grid.view_name == "slice_1_horizontal" and grid.config.strategy == 3
    assert grid.fraction[1, 1] == pytest.approx(1 - 0.98**100)
    assert np.all(np.isfinite(grid.si_sdr))
    # more of the correction: the step loss (in the slice's view) falls along every row and column
    assert np.all(np.diff(grid.loss, axis=0) <= 1e-9) and np.all(np.diff(grid.loss, axis=1) <= 1e-9)
    rows = grid.rows()
    assert len(rows) == 9 and rows[4]["iterations"] == 100 and rows[4]["learning_rate"] == 0.01
    assert rows[4]["si_sdr_i"] == pytest.approx(grid.si_sdr[1, 1] - grid.mixture_si_sdr)
    assert all(r["oracle"] for r in rows)
    assert grid.best() in {(n, lr) for n in grid.iterations for lr in grid.learning_rates}


def test_grid_figure_draws_the_numbers(grid):
    fig = plot_convergence_grid(grid)
    ax, ax2 = fig.axes[0], fig.axes[1]  # the colorbar is axes[2]
    np.testing.assert_allclose(np.asarray(ax.get_images()[0].get_array()), grid.si_sdr)
    assert f"{grid.si_sdr[1, 1]:.1f} dB\n87 %" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["25", "100", "400"]
    np.testing.assert_allclose(ax2.get_lines()[0].get_xdata(), grid.fraction[:, 0])
    assert "ORACLE" in fig._suptitle.get_text()


def test_grid_refuses_an_empty_axis():
    with pytest.raises(ParameterError):
        convergence_grid(np.zeros(10), np.zeros(10), view=1, config=Config(), iterations=())
