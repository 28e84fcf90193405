"""The built-in training material: CC recordings, the richer singer, sung speech, the splits."""

import json

import numpy as np
import pytest

from conv2dsep_lib.core.errors import ParameterError
from conv2dsep_lib.sources import training_material as tm
from conv2dsep_lib.sources.singer import draw_style, sing, singer_plan
from conv2dsep_lib.sources.song_dsp import glottal_epochs, midi_to_hz
from conv2dsep_lib.sources.song_score import Note, Plan
from conv2dsep_lib.sources.sung_speech import analyse_speech, sing_speech

SR = 22050


def _yin(y, hop=128):
    import librosa

    return librosa.yin(
        np.asarray(y, dtype=np.float64), fmin=60, fmax=1000, sr=SR, frame_length=2048, hop_length=hop
    )


def _ltas_db(y):
    import librosa

    power = np.abs(librosa.stft(np.asarray(y, dtype=np.float64), n_fft=1024)) ** 2
    return 10.0 * np.log10(power.mean(axis=1) + 1e-12)


def _walk(info, key):
    """Every value of *key* anywhere in a nested manifest."""
    if isinstance(info, dict):
        for k, v in info.items():
            if k == key:
                yield v
            yield from _walk(v, key)


def test_every_copied_recording_has_its_licence_and_a_role():
    oggs = sorted(p.stem for p in tm.CC_AUDIO_DIR.glob("*.ogg"))
    assert oggs == sorted(tm.RECORDINGS)
    for name in tm.RECORDINGS:
        path = tm.cc_audio_path(name)
        licence = path.with_suffix(".txt").read_text()
        assert "creativecommons.org" in licence and ("CC-BY" in licence or "Public Domain" in licence)
    assert tm.RECORDINGS[tm.LISTENING_SONG].role == "listening"


def test_splits_are_disjoint_and_never_use_the_demo_songs_or_the_listening_song():
    train, held = tm.SPLITS["train"], tm.SPLITS["heldout"]
    assert train.speakers and held.speakers and train.instrumentals and held.instrumentals
    assert not set(train.speakers) & set(held.speakers)
    assert not set(train.instrumentals) & set(held.instrumentals)
    assert train.seeds[0] >= held.seeds[1] and held.seeds[0] > 2  # demo songs are seeds 0..2
    used = set(train.speakers + held.speakers + train.instrumentals + held.instrumentals)
    assert tm.LISTENING_SONG not in used
    assert held.speakers == ("5703-47212-0000",) and held.instrumentals == ("Kevin_MacLeod_-_Vibe_Ace",)
    json.dumps({name: s.to_json() for name, s in tm.SPLITS.items()})


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_examples_are_deterministic_exact_and_stay_in_their_split(split):
    a = tm.make_examples(split=split, n=6, seconds=2.0, seed=5)
    b = tm.make_examples(split=split, n=3, seconds=2.0, seed=5)  # a prefix: the same examples
    spec = tm.SPLITS[split]
    for i, ex in enumerate(a):
        assert ex.mixture.dtype == ex.vocal.dtype == ex.accompaniment.dtype == np.float32
        assert ex.mixture.shape == ex.vocal.shape == (2 * SR,) and ex.sr == SR
        assert np.array_equal(ex.mixture, ex.vocal + ex.accompaniment)
        assert np.sqrt(np.mean(ex.vocal.astype(np.float64) ** 2)) > 1e-3  # not silent
        assert ex.info["kind"] == tm.KINDS[i % 2] and ex.info["split"] == split
        json.dumps(ex.info)
        for seed in _walk(ex.info, "song_seed"):
            assert spec.seeds[0] <= seed < spec.seeds[1]
        for speaker in _walk(ex.info, "speaker"):
            assert speaker in spec.speakers
        for name in _walk(ex.info, "name"):
            assert name in spec.instrumentals
        if i < len(b):
            assert np.array_equal(ex.mixture, b[i].mixture) and ex.info == b[i].info
    other = tm.make_examples(split=split, n=1, seconds=2.0, seed=6)[0]
    assert not np.array_equal(other.mixture, a[0].mixture)


def test_examples_refuse_bad_arguments(monkeypatch, tmp_path):
    with pytest.raises(ParameterError, match="split='test'"):
        tm.make_examples(split="test", n=1, seconds=2.0)
    with pytest.raises(ParameterError, match="kinds"):
        tm.make_examples(split="train", kinds=("speech",), n=1, seconds=2.0)
    with pytest.raises(ParameterError, match="seconds"):
        tm.make_examples(split="train", n=1, seconds=0.1)
    monkeypatch.setattr(tm, "CC_AUDIO_DIR", tmp_path)
    with pytest.raises(ParameterError, match="missing"):
        tm.cc_audio_path("198-209-0000")


def test_listening_song_is_a_mono_excerpt():
    y = tm.load_listening_song(offset=30.0, duration=2.0)
    assert y.shape == (2 * SR,) and y.dtype == np.float32 and np.abs(y).max() > 0.01


def test_glottal_epochs_jitter_the_periods():
    f0 = np.full(SR, 200.0)
    rng = np.random.default_rng(0)
    _, steady = glottal_epochs(f0, fs=SR, rng=rng, jitter=0.0)
    _, jittered = glottal_epochs(f0, fs=SR, rng=rng, jitter=0.01)
    assert np.std(steady / steady.mean()) < 1e-6
    assert 0.005 < np.std(jittered / jittered.mean()) < 0.02


def test_singer_sings_the_note_with_vibrato_and_is_not_silent():
    note = Note(onset=0.0, end=2.0, midi=57.0, vowel="a", consonant=None, phrase_start=False)
    plan = Plan(beat=0.5, bar=2.0, chords=[(9, 0, 4)], notes=[note], phrases=[(0.0, 2.0)])
    rng = np.random.default_rng(1)
    style = draw_style(rng, register="tenor")
    y = sing(plan, n=2 * SR, rng=rng, style=style)
    assert y.shape == (2 * SR,) and y.dtype == np.float32 and np.abs(y).max() > 0.1
    f0 = _yin(y)[int(0.6 * SR / 128) : int(1.8 * SR / 128)]  # the held part, vibrato on
    cents = 1200.0 * np.log2(f0 / midi_to_hz(57.0))
    assert abs(np.median(cents)) < 60
    assert np.std(cents) > 0.2 * style.vibrato_depth * 100  # the pitch moves (vibrato, drift, jitter)


def test_singer_plans_cover_every_voice_type_in_range():
    for register, lo, hi in (("bass", 60.0, 200.0), ("soprano", 250.0, 800.0)):
        plan = singer_plan(np.random.default_rng(2), seconds=4.0, register=register)
        hz = midi_to_hz([n.midi for n in plan.notes])
        assert lo < hz.min() and hz.max() < hi


def test_sung_speech_keeps_the_speaker_and_follows_the_melody():
    speech = tm._recording("198-209-0000", SR)
    analysis = analyse_speech(speech, sr=SR)
    rng = np.random.default_rng(3)
    plan = singer_plan(rng, seconds=4.0, register="alto")
    phrase = sing_speech(analysis, plan, n=4 * SR, rng=rng)
    assert phrase.audio.shape == (4 * SR,) and np.abs(phrase.audio).max() > 0.1
    # the speaker's long-term spectrum survives (300 Hz .. 8 kHz: the melody moves the harmonics)
    band = slice(14, 372)
    assert np.corrcoef(_ltas_db(speech)[band], _ltas_db(phrase.audio)[band])[0, 1] > 0.8
    # the F0 is the melody's, not the speaker's
    est = _yin(phrase.audio)
    m = min(len(est), len(phrase.f0))
    sung = np.isfinite(phrase.f0[:m])
    assert sung.mean() > 0.4
    cents = 1200.0 * np.log2(est[:m][sung] / phrase.f0[:m][sung])
    assert np.mean(np.abs(cents) < 50) > 0.8
    melody = midi_to_hz([n.midi for n in plan.notes])
    assert np.median(est[:m][sung]) > 0.8 * melody.min()
