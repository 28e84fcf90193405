"""Blind mode: learned Conv2D views that predict the fingerprint EQ from the mixture alone.

Imported only where used (it needs torch): :mod:`.model` (the network), :mod:`.spectral`
(torch STFT with the method's numbers), :mod:`.training` (the loop, checkpoints), :mod:`.infer`
(chunked separation of a song of any length), :mod:`.store` (saving and loading models).
"""

from pathlib import Path

__all__ = ["SHIPPED_MODEL"]

#: The model that ships with the package (``make model`` trains it; its training record and
#: curves lie beside it as ``vocals.training.json`` / ``vocals.training.png``).  Defined here,
#: without torch, so that naming it imports nothing heavy.
SHIPPED_MODEL = Path(__file__).resolve().parent / "shipped" / "vocals.pt"
