"""Labelled recordings from a folder or a manifest, their train/valid/test split,
and spoken sequences built by joining recordings (for CTC transcription).

A folder is read by a file-name pattern such as FSDD's
``{label}_{speaker}_{index}.wav``; a manifest is a CSV with columns ``path``,
``label`` and optionally ``speaker``, ``split`` (train, valid or test), paths
relative to the manifest's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from rnnkit.data.tables import read_rows
from rnnkit.errors import DataError
from rnnkit.io import parse_list

FIELDS = {
    "label": r"(?P<label>.+?)",
    "speaker": r"(?P<speaker>.+?)",
    "index": r"(?P<index>\d+)",
    "any": r".*?",
}
SPLITS = ("auto", "index", "speakers", "column", "random")


@dataclass
class Recording:
    """One audio file with its label, and its speaker, index and split where known."""

    path: Path
    label: str | None
    speaker: str | None = None
    index: int | None = None
    split: str | None = None


def pattern_regex(pattern: str) -> re.Pattern:
    """``{label}_{speaker}_{index}.wav`` -> a regex over file names (``{any}`` matches anything)."""
    parts = re.split(r"(\{[a-z]+\})", pattern)
    regex = ""
    for part in parts:
        if part.startswith("{") and part.endswith("}"):
            if part[1:-1] not in FIELDS:
                raise DataError(
                    f"file-name pattern {pattern!r}: unknown field {part}; "
                    f"expected {', '.join('{' + f + '}' for f in FIELDS)}"
                )
            regex += FIELDS[part[1:-1]]
        else:
            regex += re.escape(part)
    if "{label}" not in pattern:
        raise DataError(f"file-name pattern {pattern!r}: needs a {{label}} field")
    return re.compile(regex + r"\Z", re.IGNORECASE)


def scan_folder(folder, pattern: str = "{label}_{speaker}_{index}.wav") -> list[Recording]:
    """Every ``.wav`` under ``folder`` (sorted), labelled by ``pattern``; a name the
    pattern does not fit is an error, so that no file is silently left out."""
    folder = Path(folder)
    regex = pattern_regex(pattern)
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() == ".wav")
    if not paths:
        raise DataError(f"{folder}: no .wav files found")
    recordings = []
    for path in paths:
        match = regex.match(path.name)
        if match is None:
            raise DataError(
                f"{path}: the file name does not fit the pattern {pattern!r} (set --pattern)"
            )
        fields = match.groupdict()
        index = int(fields["index"]) if fields.get("index") else None
        recordings.append(Recording(path, fields["label"], fields.get("speaker"), index))
    return recordings


def read_manifest(path) -> list[Recording]:
    """Recordings listed in a CSV/TSV manifest (see the module docstring)."""
    path = Path(path)
    columns, rows = read_rows(path)
    for needed in ("path", "label"):
        if needed not in columns:
            raise DataError(
                f"{path}: no column {needed!r}; a manifest needs path and label (found: "
                f"{', '.join(columns)})"
            )
    recordings = []
    for number, row in rows:
        audio = path.parent / str(row["path"]).strip()
        if not audio.is_file():
            raise DataError(f"{path}: line {number}: no such file {audio}")
        split = str(row.get("split") or "").strip().lower() or None
        if split not in (None, "train", "valid", "test"):
            raise DataError(
                f"{path}: line {number}: split must be train, valid or test; found {row['split']!r}"
            )
        speaker = str(row.get("speaker") or "").strip() or None
        recordings.append(Recording(audio, str(row["label"]).strip(), speaker, None, split))
    if not recordings:
        raise DataError(f"{path}: the manifest lists no recordings")
    return recordings


def read_recordings(source, pattern: str) -> list[Recording]:
    """A folder (by ``pattern``) or a manifest file."""
    source = Path(source)
    if source.is_dir():
        return scan_folder(source, pattern)
    if not source.is_file():
        raise DataError(f"{source}: no such folder or manifest file")
    return read_manifest(source)


def _resolve(split: str, recordings, test_speakers) -> str:
    if split != "auto":
        return split
    if test_speakers:
        return "speakers"
    if any(r.split for r in recordings):
        return "column"
    return "index" if all(r.index is not None for r in recordings) else "random"


def _ranges(text: str) -> set[int]:
    """``"0-4,7"`` -> {0, 1, 2, 3, 4, 7}."""
    values = set()
    for part in parse_list(text.replace(" ", "")):
        low, _, high = part.partition("-")
        if not (low.isdigit() and (high.isdigit() or not high)):
            raise DataError(f"test indices {text!r}: expected numbers and ranges such as 0-4,7")
        values.update(range(int(low), int(high or low) + 1))
    return values


def split_recordings(
    recordings: list[Recording],
    split: str = "auto",
    test_indices: str = "0-4",
    test_speakers: str | None = None,
    test_fraction: float = 0.1,
    valid_fraction: float = 0.1,
    seed: int = 0,
) -> dict[str, list[Recording]]:
    """``{"train", "valid", "test"}``. The test part is chosen by ``split``: ``index``
    (file-name indices in ``test_indices``, FSDD's standard split), ``speakers``
    (the comma-separated ``test_speakers``, none of whom is trained on), ``column``
    (the manifest's split column) or ``random`` (``test_fraction``, seeded); ``auto``
    picks the first that applies, in the order speakers, column, index, random.
    The validation part is ``valid_fraction`` of the rest, seeded, unless the manifest names it."""
    split = _resolve(split, recordings, test_speakers)
    if split not in SPLITS:
        raise DataError(f"split must be one of {', '.join(SPLITS)}; got {split!r}")
    generator = torch.Generator().manual_seed(seed)
    if split == "column":
        parts = {
            name: [r for r in recordings if r.split == name] for name in ("train", "valid", "test")
        }
        parts["train"] += [r for r in recordings if r.split is None]
        if parts["valid"]:
            return parts
        rest, test = parts["train"], parts["test"]
    elif split == "random":
        order = torch.randperm(len(recordings), generator=generator).tolist()
        count = round(len(recordings) * test_fraction)
        test, rest = [recordings[i] for i in order[:count]], [recordings[i] for i in order[count:]]
    else:
        test_of = _test_rule(split, recordings, test_indices, test_speakers)
        test = [r for r in recordings if test_of(r)]
        rest = [r for r in recordings if not test_of(r)]
    order = torch.randperm(len(rest), generator=generator).tolist()
    count = round(len(rest) * valid_fraction)
    valid = sorted(order[:count])
    chosen = set(valid)
    return {
        "train": [rest[i] for i in range(len(rest)) if i not in chosen],
        "valid": [rest[i] for i in valid],
        "test": test,
    }


def _test_rule(split: str, recordings, test_indices: str, test_speakers: str | None):
    if split == "index":
        missing = next((r for r in recordings if r.index is None), None)
        if missing is not None:
            raise DataError(
                f"{missing.path}: split 'index' needs an {{index}} in the file-name pattern"
            )
        indices = _ranges(test_indices)
        return lambda r: r.index in indices
    names = set(parse_list(test_speakers))
    known = {r.speaker for r in recordings}
    if not names or not names <= known:
        raise DataError(
            f"test speakers {test_speakers!r}: expected names among the speakers "
            f"({', '.join(sorted(map(str, known)))})"
        )
    return lambda r: r.speaker in names


def join_recordings(
    waves: list[Tensor],
    sample_rate: int,
    generator: torch.Generator,
    gap_seconds: tuple[float, float] = (0.05, 0.3),
    noise: float = 1e-3,
) -> Tensor:
    """One waveform of ``waves`` in order, with a random gap (a uniform length in
    ``gap_seconds``) before, between and after them. Gaps hold faint Gaussian
    noise rather than digital zeros, which no real recording contains."""
    pieces = []
    for wave in waves + [None]:
        seconds = gap_seconds[0] + (gap_seconds[1] - gap_seconds[0]) * float(
            torch.rand((), generator=generator)
        )
        pieces.append(torch.randn(int(seconds * sample_rate), generator=generator) * noise)
        if wave is not None:
            pieces.append(wave)
    return torch.cat(pieces)


def draw_sequences(
    count: int, pool: int, min_words: int, max_words: int, generator: torch.Generator
) -> list[list[int]]:
    """``count`` lists of ``min_words..max_words`` indices into ``pool`` items (drawn with
    replacement)."""
    if not 1 <= min_words <= max_words:
        raise DataError(
            f"sequence lengths need 1 <= min_words <= max_words; got {min_words} and {max_words}"
        )
    lengths = torch.randint(min_words, max_words + 1, (count,), generator=generator).tolist()
    return [torch.randint(0, pool, (n,), generator=generator).tolist() for n in lengths]
