"""The frozen config: the seed's defaults, validation messages, derivation."""

import dataclasses

import pytest

from conv2dsep_lib.core.config import Config, check_n_slices
from conv2dsep_lib.core.errors import ParameterError


def test_seed_defaults():
    c = Config()
    assert (c.sr, c.duration, c.n_fft, c.hop_length, c.n_points) == (22050, 4.7, 2048, 1040, 400)
    assert (c.num_iterations, c.learning_rate, c.clip_db, c.amin) == (100, 0.01, 20.0, 1e-8)
    assert c.strategy == 3 and c.greedy_score == "step_loss"
    assert c.n_frames == 100 and c.n_bins == 1025


def test_frozen_and_replace():
    c = Config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.sr = 44100
    d = c.replace(learning_rate=0.05)
    assert d.learning_rate == 0.05 and c.learning_rate == 0.01
    assert Config.from_dict(d.to_dict()) == d


@pytest.mark.parametrize(
    "field,value,needle",
    [
        ("num_iterations", 0, "num_iterations=0"),
        ("learning_rate", 0.0, "learning_rate=0.0"),
        ("learning_rate", -1.0, "learning_rate=-1.0"),
        ("clip_db", 0, "clip_db=0"),
        ("n_points", 1, "n_points=1"),
        ("hop_length", 0, "hop_length=0"),
        ("n_fft", -2048, "n_fft=-2048"),
        ("sr", 0, "sr=0"),
        ("sr", 22050.5, "sr=22050.5"),
        ("duration", 0.05, "too short for one window"),
        ("duration", float("nan"), "duration=nan"),
        ("strategy", 5, "strategy=5"),
        ("greedy_score", "loss", "greedy_score='loss'"),
    ],
)
def test_invalid_values_name_value_and_range(field, value, needle):
    with pytest.raises(ParameterError) as err:
        Config().replace(**{field: value})
    assert needle in str(err.value)
    assert "allowed" in str(err.value)


def test_unknown_field():
    with pytest.raises(ParameterError, match="unknown config field"):
        Config().replace(colour="red")


@pytest.mark.parametrize("n", [0, 19, -1, 2.5, True])
def test_n_slices_range(n):
    with pytest.raises(ParameterError, match=r"allowed 1\.\.18"):
        check_n_slices(n)


def test_n_slices_ok():
    assert check_n_slices(18) == 18 and check_n_slices(1) == 1
