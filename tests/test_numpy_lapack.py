"""numpy.linalg.solve with its LU kept (scoring/numpy_lapack.py): the same bits as numpy's call."""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from conv2dsep_lib.scoring import numpy_lapack
from conv2dsep_lib.scoring.numpy_lapack import LUSolver


def _ill_conditioned(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n + 8))
    a = x @ x.T
    a[:, :4] *= 1e6  # badly scaled columns: the pivoting matters
    return a + np.finfo(float).eps * np.eye(n)


@pytest.mark.parametrize("n, k", [(512, 1), (1024, 1), (1024, 2)])
def test_lu_solver_gives_numpy_solve_bits(n, k):
    a = _ill_conditioned(n, seed=n + k)
    rng = np.random.default_rng(k)
    with threadpool_limits(1, user_api="blas"):
        solver = LUSolver(a)
        for _ in range(3):  # one factorisation, several right-hand sides
            d = rng.standard_normal((n, k))
            assert np.array_equal(solver(d), np.linalg.solve(a, d))
    if numpy_lapack.numpy_lapack() is not None:
        assert solver.factored  # numpy's wheels: the factors are kept


def test_lu_solver_without_numpy_lapack_calls_numpy_solve(monkeypatch):
    monkeypatch.setattr(numpy_lapack, "numpy_lapack", lambda: None)
    a = _ill_conditioned(256, seed=1)
    d = np.random.default_rng(2).standard_normal((256, 1))
    solver = LUSolver(a)
    assert not solver.factored
    assert np.array_equal(solver(d), np.linalg.solve(a, d))


def test_lu_solver_refuses_a_singular_matrix_as_numpy_does():
    a = np.ones((64, 64))
    with pytest.raises(np.linalg.LinAlgError):
        LUSolver(a)(np.ones((64, 1)))
