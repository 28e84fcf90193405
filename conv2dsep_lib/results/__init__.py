"""Results: the run record as typed dataclasses, tidy tables (pandas), aggregation.

* :mod:`.record` -- :class:`RunRecord` and its parts; ``results.json`` round trip
* :mod:`.tables` -- record -> tidy rows; CSV write/read with types
* :mod:`.aggregate` -- medians and quartiles over tracks; the numbers sweep figures draw
"""

from .aggregate import greedy_pairs, headline, n_slices_curves, strategy_groups, summarise, varied_parameters
from .record import ORACLE_LABEL, ORACLE_NOTE, SCHEMA_VERSION, BaselineRecord, RunRecord, read_record
from .tables import baseline_rows, read_table, record_rows, write_table

__all__ = [
    "greedy_pairs",
    "headline",
    "n_slices_curves",
    "strategy_groups",
    "summarise",
    "varied_parameters",
    "ORACLE_LABEL",
    "ORACLE_NOTE",
    "SCHEMA_VERSION",
    "BaselineRecord",
    "RunRecord",
    "read_record",
    "baseline_rows",
    "read_table",
    "record_rows",
    "write_table",
]
