"""Sources: the one place that knows audio files and their layouts.

* :mod:`.layout` -- file names and default folders (``rtg/100-window`` ...)
* :mod:`.audio` -- read, check, resample, cut an excerpt, write WAV; :class:`AudioPair`
* :mod:`.align` -- lag, shift and the loudest-vocal excerpt of a pair
* :mod:`.prepare` -- ``conv2dsep prepare``: source pairs -> the rtg layout
* :mod:`.musdb18` -- MUSDB18-HQ folders and ``.stem.mp4``
* :mod:`.datasets` -- :class:`Dataset`: named tracks of prepared folders or MUSDB18
* :mod:`.song` (+ ``song_*``) -- the synthetic demo song; :mod:`.demo_set` the demo set
* :mod:`.inputs` -- :func:`load_input`: the input chosen on the command line or in a notebook
"""

from ..core.lazy import lazy_exports

#: Exported name -> the submodule it lives in (imported on first use).
_EXPORTS = {
    "AudioPair": "audio",
    "load_audio": "audio",
    "load_pair": "audio",
    "read_audio": "audio",
    "write_wav": "audio",
    "Dataset": "datasets",
    "Stems": "datasets",
    "open_dataset": "datasets",
    "open_musdb": "datasets",
    "build_demo_set": "demo_set",
    "demo_song_dir": "demo_set",
    "load_input": "inputs",
    "resolve_pair_paths": "inputs",
    "PrepareResult": "prepare",
    "prepare_musdb": "prepare",
    "prepare_pair": "prepare",
    "DemoSong": "song",
    "synthesize_song": "song",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
