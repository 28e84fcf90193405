"""Write an experiment in the seed's output layout (``output_progressive_{N}slices/``).

Folder name: the seed's ``output_progressive_{N}slices`` -- for the seed's ``CONFIG``, or
always when asked (the notebooks and the sweep, which give every run a folder of its own);
``by_settings=True`` (the command line) names any other settings' folder by a tag of the
changed fields, ``output_progressive_8slices_lr0.9`` (:func:`output_dir_name`,
:mod:`conv2dsep_lib.results.index`), so one setting never replaces another's results, and
``index=True`` lists the folder in ``OUT/index.json`` and ``OUT/index.md``.

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

from ..core.config import Config
from ..core.errors import ParameterError
from ..core.files import PathLike, check_writable_folder, is_inside, staging_folder, write_json
from ..method.transforms import stft
from ..results.index import entry_from_record, index_lock, update_index
from ..results.naming import run_folder_name
from ..results.record import RunRecord
from ..sources.audio import write_wav
from ..sources.stems import pair_target
from ..viz.experiment import save_experiment_figures
from .experiment import Experiment, build_record
from .progress import NO_PROGRESS, NoProgress

__all__ = [
    "output_dir_name",
    "folder_for",
    "audio_layout",
    "estimate_magnitude",
    "check_outputs",
    "write_run_folder",
    "write_outputs",
    "STEM_WORDS",
    "stem_word",
]


def output_dir_name(n_slices: int, *, config: Optional[Config] = None, greedy: bool = True) -> str:
    """A run's folder name: the seed's ``output_progressive_{N}slices``; with *config*, a
    tag of the fields that differ from the seed's is appended (``..._8slices_lr0.9``; see
    :func:`conv2dsep_lib.results.index.run_folder_name`).  *greedy*: the run has the greedy
    search (otherwise ``greedy_score`` does not name it)."""
    return run_folder_name(n_slices, config=config, greedy=greedy)


def check_outputs(
    out_root: PathLike, *, n_slices: int, inputs: Sequence[PathLike] = (), name: Optional[str] = None
) -> Path:
    """Before any work: *out_root* can be written, and no input lies inside the folder the run
    will replace (``out_root/<name>``, default ``output_progressive_{N}slices``).

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
    final = Path(out_root) / (name or output_dir_name(n_slices))
    for path in inputs:
        if is_inside(path, final):
            raise ParameterError(
                f"the input {str(path)!r} is inside {str(final)!r}, the folder this run replaces: allowed "
                "inputs outside it (copy the file elsewhere first, or give another --out)"
            )
    return final


#: The word a target's files are named by (``extracted_vocal.wav``: the seed's name for vocals).
STEM_WORDS = {"vocals": "vocal", "drums": "drums", "bass": "bass", "other": "other"}


def stem_word(exp: Experiment) -> str:
    """``vocal`` for a vocals run (the seed's file names), else the target (``drums``, ...)."""
    return STEM_WORDS[pair_target(exp.pair)]


def audio_layout(exp: Experiment) -> Dict[str, str]:
    """Relative wav path of every estimate of *exp* (keys as ``exp.estimates``)."""
    w = stem_word(exp)
    paths = {f"k={k}": f"{k}_slices/extracted_{w}.wav" for k in range(1, exp.n_slices + 1)}
    if exp.greedy is not None:
        paths["greedy_best"] = f"best_sequence_found/extracted_{w}_best_sequence.wav"
        paths["greedy"] = f"best_sequence_found/extracted_{w}_greedy_order.wav"
    return paths


def estimate_magnitude(exp: Experiment, key: str) -> np.ndarray:
    """The working magnitude behind estimate *key* (``"k=3"``, ``"greedy"``, ``"greedy_best"``).

    A run keeps only the magnitude of ``exp.shown`` (the lowest yardstick): any other key of a
    finished run raises ``RuntimeError`` (released)."""
    if key == exp.shown and exp.shown_magnitude is not None:
        return exp.shown_magnitude
    if key.startswith("k="):
        return exp.progressive[int(key[2:]) - 1].magnitude
    assert exp.greedy is not None
    if key == "greedy":
        return exp.greedy.steps[-1].magnitude
    return exp.greedy.steps[exp.greedy.best_prefix - 1].magnitude


def folder_for(exp: Experiment, *, by_settings: bool = False) -> str:
    """The folder name :func:`write_outputs` uses for *exp*."""
    if not by_settings:
        return output_dir_name(exp.n_slices)
    return output_dir_name(exp.n_slices, config=exp.config, greedy=exp.greedy is not None)


def _figures(exp: Experiment, record: RunRecord, folder: Path, processes: int) -> None:
    save_experiment_figures(
        record,
        folder,
        mixture_mag=np.abs(exp.mixture_stft),
        vocal_mag=np.abs(stft(exp.pair.vocal, config=exp.config)),
        estimate_mag=estimate_magnitude(exp, exp.shown),
        processes=processes,
    )


def write_run_folder(
    exp: Experiment,
    folder: Path,
    *,
    arguments: Optional[Mapping[str, Any]] = None,
    plots: bool = True,
    figure_processes: int = 1,
    progress: NoProgress = NO_PROGRESS,
) -> RunRecord:
    """Write one run's files into *folder* (which the caller swaps into place): the seed's
    layout, the figures and ``results.json``.  Returns the record written."""
    progress.stage("writing")
    sr = exp.config.sr
    paths = audio_layout(exp)
    for key, rel in paths.items():
        write_wav(folder / rel, exp.estimates[key], sr)
    write_wav(folder / "1_slices" / "1_original_mixture.wav", exp.pair.mixture, sr)
    write_wav(folder / "1_slices" / f"2_target_{stem_word(exp)}.wav", exp.pair.vocal, sr)
    record = build_record(exp, audio_paths=paths, arguments=arguments)
    if plots:
        with progress.during("figures"):
            _figures(exp, record, folder, figure_processes)
    else:
        progress.skip(1)
    progress.stage("writing")
    write_json(folder / "results.json", record.to_json())
    return record


def write_outputs(
    exp: Experiment,
    out_root: PathLike,
    *,
    arguments: Optional[Mapping[str, Any]] = None,
    plots: bool = True,
    by_settings: bool = False,
    index: bool = False,
    suffix: str = "",
    figure_processes: int = 1,
    progress: NoProgress = NO_PROGRESS,
) -> Path:
    """Write the seed's layout under ``out_root/output_progressive_{N}slices[_<tag>][suffix]/``.

    Everything goes into a temporary sibling folder that replaces the final one only
    when complete, so an interrupted run leaves the previous outputs (or nothing), never
    a half-written folder.

    Parameters
    ----------
    exp : Experiment
    out_root : path
    arguments : mapping, optional
        Recorded in ``results.json`` (``command_line`` also names the run in the index).
    plots : bool
        Write the figures.
    by_settings : bool
        Name the folder by its settings (:func:`folder_for`): the seed's name for the
        seed's ``CONFIG``, a tagged one for others.  Default: the seed's name always.
    index : bool
        List the folder in ``out_root/index.json`` and ``index.md``
        (:mod:`conv2dsep_lib.results.index`): the swap into place and the index update
        happen under one lock, so two runs writing at once leave an index that describes
        the folders that are there.
    suffix : str
        Appended to the folder name (``"_at30s"``: one folder per excerpt of ``--excerpts``).
    figure_processes : int
        Draw the figures in this many processes (2: a forked child draws half of them;
        the command line's runs do, a sweep's workers and the notebooks draw in one).
    progress : NoProgress
        The run's progress hooks (:mod:`.progress`): stages ``figures`` and ``writing``.

    Returns
    -------
    Path
        The output folder.
    """
    name = folder_for(exp, by_settings=by_settings) + suffix
    final = check_outputs(out_root, n_slices=exp.n_slices, inputs=exp.pair.files, name=name)
    with index_lock(out_root, take=False) as lock:
        with staging_folder(final) as tmp:
            record = write_run_folder(
                exp,
                tmp,
                arguments=arguments,
                plots=plots,
                figure_processes=figure_processes,
                progress=progress,
            )
            if index:
                lock.acquire()  # the swap below and the index update, one writer at a time
        if index:
            update_index(out_root, entry_from_record(record, folder=name), lock=lock)
        progress.advance()
    return final
