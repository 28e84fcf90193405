"""Write an experiment in the seed's output layout (``output_progressive_{N}slices/``).

Layout::

    {k}_slices/extracted_vocal.wav              k = 1..N
    1_slices/1_original_mixture.wav  1_slices/2_target_vocal.wav
    best_sequence_found/extracted_vocal_best_sequence.wav   (best only: greedy best prefix)
    best_sequence_found/extracted_vocal_greedy_order.wav    (best only: all N, greedy order)
    all_tests_loss_progression.png  final_loss_comparison.png
    spectrogram_comparison.png  separation_quality.png  loss_vs_si_sdr.png
    results.json

Everything is written into a temporary sibling folder that replaces the final one
only when complete (:func:`conv2dsep_lib.core.files.staging_folder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np

from ..core.errors import ParameterError
from ..core.files import PathLike, check_writable_folder, is_inside, staging_folder, write_json
from ..method.transforms import stft
from ..results.record import RunRecord
from ..sources.audio import write_wav
from ..viz.experiment import save_experiment_figures
from .experiment import Experiment, build_record

__all__ = ["output_dir_name", "audio_layout", "estimate_magnitude", "check_outputs", "write_outputs"]


def output_dir_name(n_slices: int) -> str:
    """The seed's folder name, ``output_progressive_{N}slices``."""
    return f"output_progressive_{n_slices}slices"


def check_outputs(out_root: PathLike, *, n_slices: int, inputs: Sequence[PathLike] = ()) -> Path:
    """Before any work: *out_root* can be written, and no input lies inside the folder the run
    will replace (``out_root/output_progressive_{N}slices``).

    Returns
    -------
    Path
        That folder.

    Raises
    ------
    ParameterError
        An unwritable *out_root*, or an input inside the folder (e.g. scoring a previous
        run's ``extracted_vocal.wav`` into the same ``--out``).
    """
    check_writable_folder(out_root, name="--out")
    final = Path(out_root) / output_dir_name(n_slices)
    for path in inputs:
        if is_inside(path, final):
            raise ParameterError(
                f"the input {str(path)!r} is inside {str(final)!r}, the folder this run replaces: allowed "
                "inputs outside it (copy the file elsewhere first, or give another --out)"
            )
    return final


def audio_layout(exp: Experiment) -> Dict[str, str]:
    """Relative wav path of every estimate of *exp* (keys as ``exp.estimates``)."""
    paths = {f"k={k}": f"{k}_slices/extracted_vocal.wav" for k in range(1, exp.n_slices + 1)}
    if exp.greedy is not None:
        paths["greedy_best"] = "best_sequence_found/extracted_vocal_best_sequence.wav"
        paths["greedy"] = "best_sequence_found/extracted_vocal_greedy_order.wav"
    return paths


def estimate_magnitude(exp: Experiment, key: str) -> np.ndarray:
    """The working magnitude behind estimate *key* (``"k=3"``, ``"greedy"``, ``"greedy_best"``)."""
    if key.startswith("k="):
        return exp.progressive[int(key[2:]) - 1].magnitude
    assert exp.greedy is not None
    if key == "greedy":
        return exp.greedy.steps[-1].magnitude
    return exp.greedy.steps[exp.greedy.best_prefix - 1].magnitude


def _figures(exp: Experiment, record: RunRecord, folder: Path) -> None:
    save_experiment_figures(
        record,
        folder,
        mixture_mag=np.abs(exp.mixture_stft),
        vocal_mag=np.abs(stft(exp.pair.vocal, config=exp.config)),
        estimate_mag=estimate_magnitude(exp, exp.shown),
    )


def write_outputs(
    exp: Experiment, out_root: PathLike, *, arguments: Optional[Mapping[str, Any]] = None, plots: bool = True
) -> Path:
    """Write the seed's layout under ``out_root/output_progressive_{N}slices/``.

    Everything goes into a temporary sibling folder that replaces the final one only
    when complete, so an interrupted run leaves the previous outputs (or nothing), never
    a half-written folder.

    Returns
    -------
    Path
        The output folder.
    """
    final = check_outputs(out_root, n_slices=exp.n_slices, inputs=exp.pair.files)
    with staging_folder(final) as tmp:
        sr = exp.config.sr
        paths = audio_layout(exp)
        for key, rel in paths.items():
            write_wav(tmp / rel, exp.estimates[key], sr)
        write_wav(tmp / "1_slices" / "1_original_mixture.wav", exp.pair.mixture, sr)
        write_wav(tmp / "1_slices" / "2_target_vocal.wav", exp.pair.vocal, sr)
        record = build_record(exp, audio_paths=paths, arguments=arguments)
        if plots:
            _figures(exp, record, tmp)
        write_json(tmp / "results.json", record.to_json())
    return final
