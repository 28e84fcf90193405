"""conv2dsep: a research workbook for *oracle* vocal separation by Conv2D spectral
fingerprinting.

The method (the researcher's ``best.py``): 18 hand-made Conv2D views of a magnitude
spectrogram, each resampled to 400 points per window, and a per-window EQ fitted in
dB so that the mixture's fingerprint matches the **true vocal's** -- an oracle study
of how much vocal information the views carry.

The package is layered; each subpackage imports only from those below it (checked by
``lint-imports`` in ``make test``; see the README's "Architecture")::

    cli                         parses arguments, calls the API
    workbook                    widgets and notebook helpers
    sweep                       many tracks x settings: grid, plan, executors, report
    run                         the functional API: run_experiment, write_outputs, notebooks
    viz                         figures from records, tables and arrays
    results                     the run record (typed), tidy tables, aggregation
    separators                  every way to get an estimate: floor / oracle / blind
    method | scoring            the fingerprint method; SI-SDR and BSS Eval v4
    sources                     audio files, pairs, datasets, prepare, the demo songs
    core                        errors, config, atomic files and JSON, provenance
"""

from .core import Config, ParameterError, __version__

__all__ = ["Config", "ParameterError", "__version__"]
