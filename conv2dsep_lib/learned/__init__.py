"""Blind mode: learned Conv2D views that predict the fingerprint EQ from the mixture alone.

Imported only where used (it needs torch): :mod:`.model` (the network), :mod:`.spectral`
(torch STFT with the method's numbers), :mod:`.training` (the loop, checkpoints), :mod:`.infer`
(chunked separation of a song of any length), :mod:`.store` (saving and loading models).
"""
