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

from .audio import AudioPair, load_audio, load_pair, read_audio, write_wav
from .datasets import Dataset, Stems, open_dataset, open_musdb
from .demo_set import build_demo_set, demo_song_dir
from .inputs import load_input, resolve_pair_paths
from .prepare import PrepareResult, prepare, prepare_musdb, prepare_pair
from .song import DemoSong, synthesize_song

__all__ = [
    "AudioPair",
    "load_audio",
    "load_pair",
    "read_audio",
    "write_wav",
    "Dataset",
    "Stems",
    "open_dataset",
    "open_musdb",
    "build_demo_set",
    "demo_song_dir",
    "load_input",
    "resolve_pair_paths",
    "PrepareResult",
    "prepare",
    "prepare_musdb",
    "prepare_pair",
    "DemoSong",
    "synthesize_song",
]
