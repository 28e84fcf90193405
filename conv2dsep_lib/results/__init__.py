"""Results: the run record as typed dataclasses, tidy tables (pandas), aggregation.

* :mod:`.record` -- :class:`RunRecord` and its parts; ``results.json`` round trip
* :mod:`.tables` -- record -> tidy rows; CSV write/read with types
* :mod:`.aggregate` -- medians and quartiles over tracks; the numbers sweep figures draw
* :mod:`.naming` -- run folder names: the seed's for the seed's settings, a tag for others
* :mod:`.index` -- the outputs index, ``index.json`` read back as :class:`RunEntry` objects
  (:func:`read_index`)
* :mod:`.scope` -- what a sweep covers (tracks, k range), for honest titles
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "greedy_pairs": "aggregate",
    "headline": "aggregate",
    "n_slices_curves": "aggregate",
    "strategy_groups": "aggregate",
    "summarise": "aggregate",
    "varied_parameters": "aggregate",
    "ORACLE_LABEL": "record",
    "ORACLE_NOTE": "record",
    "SCHEMA_VERSION": "record",
    "BaselineRecord": "record",
    "RunRecord": "record",
    "read_record": "record",
    "RunEntry": "index",
    "Score": "index",
    "read_index": "index",
    "run_folder_name": "naming",
    "settings_tag": "naming",
    "SweepScope": "scope",
    "sweep_scope": "scope",
    "baseline_rows": "tables",
    "read_table": "tables",
    "record_rows": "tables",
    "write_table": "tables",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
