"""Piano rolls: the polyphonic-music benchmark files (Boulanger-Lewandowski et al.
2012) and MIDI files in, MIDI files and pictures out.

A piano roll is a ``(time, 88)`` float32 array of 0/1: column ``j`` is MIDI pitch
``j + 21`` (A0 to C8), row ``t`` the set of keys sounding at step ``t``.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np

from rnnkit.data.files import read_text
from rnnkit.errors import DataError, require
from rnnkit.io import atomic_write, new_figure, save_figure

KEYS = 88
LOWEST = 21  # MIDI pitch of column 0 (A0)
SPLITS = ("train", "valid", "test")
MAX_STEPS = 1_000_000
"""Longest piece read from MIDI (about 70 hours at 4 steps per quarter and 100 bpm)."""
MAT_KEYS = {"train": "traindata", "valid": "validdata", "test": "testdata"}


def roll_from_pitches(steps: list, where: str) -> np.ndarray:
    """``[[60, 64, 67], [], ...]`` -> a piano roll; pitches must be MIDI numbers on the 88 keys."""
    if not isinstance(steps, list):
        raise DataError(f"{where}: expected a list of steps, found {type(steps).__name__}")
    roll = np.zeros((len(steps), KEYS), dtype=np.float32)
    for t, pitches in enumerate(steps):
        if not isinstance(pitches, list):
            raise DataError(
                f"{where}, step {t}: expected a list of MIDI pitches, found {pitches!r}"
            )
        for pitch in pitches:
            if (
                isinstance(pitch, bool)
                or not isinstance(pitch, (int, float))
                or not np.isfinite(pitch)
                or int(pitch) != pitch
                or not LOWEST <= pitch < LOWEST + KEYS
            ):
                raise DataError(
                    f"{where}, step {t}: expected MIDI pitches from 21 to 108, found {pitch!r}"
                )
            roll[t, int(pitch) - LOWEST] = 1.0
    return roll


def _read_json(path: Path) -> dict[str, list[np.ndarray]]:
    try:
        content = json.loads(read_text(path))
    except (json.JSONDecodeError, RecursionError) as error:
        raise DataError(f"{path}: not a JSON piano-roll file ({error})") from None
    if not isinstance(content, dict) or not set(content) & set(SPLITS):
        raise DataError(f"{path}: expected a JSON object with train/valid/test lists of pieces")
    for split in SPLITS:
        if split in content and not isinstance(content[split], list):
            raise DataError(f"{path}: {split} must be a list of pieces")
    return {
        split: [
            roll_from_pitches(piece, f"{path}: {split} piece {i}") for i, piece in enumerate(pieces)
        ]
        for split, pieces in content.items()
        if split in SPLITS
    }


def _read_mat(path: Path) -> dict[str, list[np.ndarray]]:
    loadmat = require("scipy.io", f"reading {path}").loadmat
    try:
        content = loadmat(str(path))
    except Exception as error:  # scipy's parser raises many kinds on a damaged file
        raise DataError(f"{path}: not a readable MATLAB piano-roll file ({error})") from None
    splits = {}
    for split, key in MAT_KEYS.items():
        if key in content:
            try:
                pieces = [np.asarray(cell, dtype=np.float32) for cell in content[key].ravel()]
            except (TypeError, ValueError, AttributeError):
                raise DataError(f"{path}: {key} must be a cell array of piano rolls") from None
            for i, piece in enumerate(pieces):
                if piece.ndim != 2 or piece.shape[1] != KEYS:
                    raise DataError(
                        f"{path}: {key} piece {i} has shape {piece.shape}; expected (time, 88)"
                    )
                if not np.isin(piece, (0.0, 1.0)).all():
                    raise DataError(
                        f"{path}: {key} piece {i} holds values other than 0 and 1 (such as "
                        f"{piece[~np.isin(piece, (0.0, 1.0))][0]}); expected a piano roll"
                    )
            splits[split] = pieces
    if not splits:
        raise DataError(f"{path}: has none of the keys traindata, validdata, testdata")
    return splits


def read_piano_rolls(
    path,
    steps_per_quarter: int = 4,
    valid_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
) -> dict[str, list[np.ndarray]]:
    """Pieces by split from a benchmark file (``.mat`` or ``.json`` with train/valid/test),
    a MIDI file, or a folder of MIDI files (split by the fractions, seeded)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
        if not files:
            raise DataError(f"{path}: has no .mid or .midi files")
        pieces = [read_midi(f, steps_per_quarter) for f in files]
        random.Random(seed).shuffle(pieces)
        valid, test = round(len(pieces) * valid_fraction), round(len(pieces) * test_fraction)
        return {
            "train": pieces[valid + test :],
            "valid": pieces[:valid],
            "test": pieces[valid : valid + test],
        }
    if not path.is_file():
        raise DataError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _read_json(path)
    if suffix == ".mat":
        return _read_mat(path)
    if suffix in (".mid", ".midi"):
        return {"train": [read_midi(path, steps_per_quarter)]}
    raise DataError(
        f"{path}: expected a .mat or .json piano-roll file, a .mid file or a folder of them"
    )


def read_midi(path, steps_per_quarter: int = 4) -> np.ndarray:
    """A MIDI file as a piano roll with ``steps_per_quarter`` steps per quarter note
    (all tracks and channels merged; drums, channel 10, left out)."""
    mido = require("mido", f"reading {path}")
    try:
        midi = mido.MidiFile(str(path))
    except Exception as error:  # mido raises many kinds on a damaged file
        raise DataError(f"{path}: not a readable MIDI file ({error})") from None
    if not midi.ticks_per_beat or midi.ticks_per_beat <= 0:
        raise DataError(f"{path}: the MIDI header gives {midi.ticks_per_beat} ticks per beat")
    ticks_per_step = midi.ticks_per_beat / steps_per_quarter
    notes, sounding = [], {}
    for track in midi.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off") or message.channel == 9:
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                sounding.setdefault(key, tick)
            elif key in sounding:
                notes.append((message.note, sounding.pop(key), tick))
    if not notes:
        raise DataError(f"{path}: has no notes")
    length = max(round(end / ticks_per_step) for _, _, end in notes)
    if length > MAX_STEPS:
        raise DataError(
            f"{path}: its notes reach step {length:,}; expected at most {MAX_STEPS:,} steps"
        )
    roll = np.zeros((max(length, 1), KEYS), dtype=np.float32)
    for pitch, start, end in notes:
        if LOWEST <= pitch < LOWEST + KEYS:
            first = round(start / ticks_per_step)
            roll[first : max(first + 1, round(end / ticks_per_step)), pitch - LOWEST] = 1.0
    return roll


def write_midi(
    roll: np.ndarray, path, steps_per_quarter: int = 1, tempo_bpm: float = 100.0
) -> None:
    """Writes a piano roll as a one-track MIDI file; a key active on consecutive steps
    is one held note (the benchmark rolls cannot tell held from repeated notes)."""
    mido = require("mido", f"writing {path}")

    ticks_per_step = 480 // steps_per_quarter
    active = np.vstack([np.zeros((1, KEYS)), roll > 0.5, np.zeros((1, KEYS))]).astype(np.int8)
    change = np.diff(active, axis=0)  # +1 where a note starts at step t, -1 where it ends
    events = [(int(t), int(change[t, key] > 0), int(key)) for t, key in zip(*np.nonzero(change))]
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm), time=0)])
    now = 0
    for step, starts, key in sorted(events):  # note-offs (0) before note-ons (1) at the same step
        tick = step * ticks_per_step
        kind = "note_on" if starts else "note_off"
        track.append(
            mido.Message(kind, note=key + LOWEST, velocity=80 if starts else 0, time=tick - now)
        )
        now = tick
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    buffer = io.BytesIO()
    midi.save(file=buffer)
    atomic_write(Path(path), buffer.getvalue())


def plot_piano_roll(roll: np.ndarray, path, title: str, primed_steps: int = 0) -> None:
    figure, axis = new_figure(figsize=(min(16, 4 + roll.shape[0] / 16), 4))
    axis.imshow(
        roll.T,
        aspect="auto",
        origin="lower",
        cmap="Greys",
        interpolation="nearest",
        extent=(0, roll.shape[0], LOWEST - 0.5, LOWEST + KEYS - 0.5),
    )
    if primed_steps:
        axis.axvline(primed_steps, color="tab:red", label="end of the prime")
        axis.legend(loc="upper right", fontsize=8)
    axis.set_xlabel("time step")
    axis.set_ylabel("MIDI pitch")
    axis.set_title(title)
    save_figure(figure, path)
