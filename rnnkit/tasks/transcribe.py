"""Transcription with CTC: labelled recordings (e.g. single spoken digits) are
joined, with short silences, into spoken sequences -> features -> a (bi)LSTM
trained with the CTC loss -> run folder; and back: greedy or beam-search
transcripts of WAV files, and the token (digit) error rate.

Training sequences are drawn afresh for every batch from the training
recordings, each at a random speed and with SpecAugment masks; validation and
test sequences are drawn once, with a fixed seed, from recordings the model
never trains on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from rnnkit.data.audio import AudioConfig, FeatureExtractor
from rnnkit.data.buckets import LoadedBatches, pad_sequences
from rnnkit.data.examples import LabelSet
from rnnkit.data.speech import draw_sequences, join_recordings, read_recordings
from rnnkit.data.wav import read_wav, write_wav
from rnnkit.errors import ConfigError, DataError
from rnnkit.fields import AT_LEAST_ONE, Range
from rnnkit.io import write_text
from rnnkit.metrics.transcription import error_rate
from rnnkit.models.ctc import CTCConfig, CTCRecognizer, beam_decode, greedy_decode
from rnnkit.tasks.common import Recipe, Run, fit
from rnnkit.tasks.speech import (
    SpeechDataConfig,
    encode_labels,
    speech_fingerprint,
    start_speech_run,
)
from rnnkit.train import TrainConfig
from rnnkit.train.distributed import processes


@dataclass
class TranscribeDataConfig(SpeechDataConfig):
    """Where the recordings come from, how they are split, joined into sequences and augmented."""

    vtlp: float = 0.0
    """Vocal-tract-length perturbation (Jaitly & Hinton 2013): each training recording's
    frequency axis is warped by a factor drawn from [1 - vtlp, 1 + vtlp]; 0 (the measured
    recipe of the transcriber) turns it off."""
    min_words: int = 2
    """Fewest recordings joined into one sequence."""
    max_words: int = 5
    """Most recordings joined into one sequence."""
    min_gap: float = 0.05
    """Shortest silence (seconds) before, between and after the joined recordings."""
    max_gap: float = 0.3
    """Longest such silence (seconds)."""
    epoch_sequences: int = 1000
    """Training sequences per epoch (drawn afresh each time)."""
    valid_sequences: int = 200
    """Validation sequences, drawn once from the validation recordings."""
    test_sequences: int = 500
    """Test sequences, drawn once from the test recordings."""

    BOUNDS = {
        **SpeechDataConfig.BOUNDS,
        "min_words": AT_LEAST_ONE,
        "max_words": AT_LEAST_ONE,
        "min_gap": Range(0, 10),
        "max_gap": Range(0, 10),
        "epoch_sequences": AT_LEAST_ONE,
        "valid_sequences": AT_LEAST_ONE,
        "test_sequences": AT_LEAST_ONE,
    }

    def __post_init__(self):
        super().__post_init__()
        if self.ensemble != 1:
            raise ConfigError(
                "ensemble",
                f"must be 1 for the transcriber (it trains one model); got {self.ensemble}",
            )
        if self.max_words < self.min_words:
            raise ConfigError(
                "max_words", f"must be at least min_words ({self.min_words}); got {self.max_words}"
            )
        if self.max_gap < self.min_gap:
            raise ConfigError(
                "max_gap", f"must be at least min_gap ({self.min_gap}); got {self.max_gap}"
            )


class Joiner:
    """Spoken sequences from one split's recordings: ``draw(generator, count)`` ->
    ``[(waveform, token ids)]``, token ids 1.. (0 is the CTC blank)."""

    def __init__(self, waves, tokens: list[int], data: TranscribeDataConfig, sample_rate: int):
        self.waves, self.tokens, self.data, self.sample_rate = waves, tokens, data, sample_rate

    def draw(self, generator: torch.Generator, count: int):
        sequences = draw_sequences(
            count, len(self.waves), self.data.min_words, self.data.max_words, generator
        )
        return [
            (
                join_recordings(
                    [self.waves[i] for i in rows],
                    self.sample_rate,
                    generator,
                    (self.data.min_gap, self.data.max_gap),
                ),
                [self.tokens[i] for i in rows],
            )
            for rows in sequences
        ]

    def fixed(self, count: int, seed: int, extractor: FeatureExtractor):
        """``count`` sequences as ``(features, tokens)``, the same for the same seed."""
        drawn = self.draw(torch.Generator().manual_seed(seed), count)
        return [(extractor.extract(wave), tokens) for wave, tokens in drawn]


def collate(pairs, device):
    """``[(features, tokens)]`` -> ``(padded features, lengths, targets, target lengths)``."""
    features, lengths = pad_sequences([f for f, _ in pairs])
    targets = torch.tensor([t for _, tokens in pairs for t in tokens], dtype=torch.long)
    target_lengths = torch.tensor([len(tokens) for _, tokens in pairs], dtype=torch.long)
    return features.to(device), lengths, targets.to(device), target_lengths.to(device)


class JoinedBatches:
    """An epoch of training batches, each drawn from a generator seeded by ``(seed,
    batch index)``, so a resumed epoch repeats exactly; ``transform(wave, generator)``
    turns a waveform into (augmented) features."""

    def __init__(self, joiner: Joiner, transform, batch_size: int, count: int, seed: int, device):
        self.joiner, self.transform, self.batch_size, self.seed, self.device = (
            joiner,
            transform,
            batch_size,
            seed,
            device,
        )
        self.count = count

    def __len__(self) -> int:
        return math.ceil(self.count / self.batch_size)

    def __getitem__(self, index: int):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + index)
        size = min(self.batch_size, self.count - index * self.batch_size)
        drawn = self.joiner.draw(generator, size)
        return collate(
            [(self.transform(wave, generator), tokens) for wave, tokens in drawn], self.device
        )


def transcribe_features(model, features: list[torch.Tensor], device, beam_width: int = 1):
    """Token-id lists (and log-probabilities, None for greedy) of feature sequences, in order."""
    results = []
    for start in range(0, len(features), 32):
        padded, lengths = pad_sequences(features[start : start + 32])
        log_probs, steps = model(padded.to(device), lengths)
        if beam_width <= 1:
            results += [(tokens, None) for tokens in greedy_decode(log_probs, steps)]
        else:
            results += [beam_decode(row[: int(n)], beam_width) for row, n in zip(log_probs, steps)]
    return results


class TranscribeTask:
    """CTC training as the trainer sees it (:class:`rnnkit.train.TrainingTask`)."""

    unit = "sequences"

    def __init__(self, joiner, transform, valid, data: TranscribeDataConfig, seed: int, device):
        self.joiner, self.transform, self.valid, self.data, self.seed, self.device = (
            joiner,
            transform,
            valid,
            data,
            seed,
            device,
        )

    def batches(self, epoch: int):
        made_here = self.data.workers == 0
        batches = JoinedBatches(
            self.joiner,
            self.transform,
            self.data.batch_size,
            self.data.epoch_sequences,
            self.seed * 100_003 + epoch,
            self.device if made_here else "cpu",
        )
        return batches if made_here else LoadedBatches(batches, self.data.workers, self.device)

    def shard(self, batch, processes):
        """This rank's sequences; the targets are concatenated, so they are cut by length."""
        features, lengths, targets, target_lengths = batch
        rows = processes.shard(torch.arange(len(lengths)))
        ends = target_lengths.cumsum(0)
        first = int(ends[rows[0] - 1]) if rows[0] > 0 else 0
        kept = targets[first : int(ends[rows[-1]])]
        return features[rows], lengths[rows.cpu()], kept, target_lengths[rows]

    def loss(self, model, batch, carry):
        features, lengths, targets, target_lengths = batch
        log_probs, steps = model(features, lengths)
        # zero_infinity: a sequence too short for its tokens must not turn the batch's loss
        # infinite.
        loss = F.ctc_loss(
            log_probs.transpose(0, 1), targets, steps, target_lengths, blank=0, zero_infinity=True
        )
        return loss, None, len(lengths)

    def evaluate(self, model) -> dict:
        """CTC loss (the mean over sequences of the loss per target token, as
        ``F.ctc_loss`` averages) and the greedy token error rate; under torchrun each
        rank decodes its share of the sequences."""
        ranks = processes()
        mine, loss_sum, hypotheses = self.valid[ranks.rows(len(self.valid))], 0.0, []
        if mine:
            features, lengths, targets, target_lengths = collate(mine, self.device)
            log_probs, steps = model(features, lengths)
            losses = F.ctc_loss(
                log_probs.transpose(0, 1),
                targets,
                steps,
                target_lengths,
                blank=0,
                zero_infinity=True,
                reduction="none",
            )
            loss_sum = (losses / target_lengths.clamp_min(1)).sum().item()
            hypotheses = greedy_decode(log_probs, steps)
        (loss_sum,) = ranks.reduce([loss_sum], self.device)
        hypotheses = [h for part in ranks.gather(hypotheses) for h in part]
        return {
            "loss": loss_sum / len(self.valid),
            "token_error_rate": error_rate([t for _, t in self.valid], hypotheses),
        }


RECIPE = Recipe(
    "transcribe",
    TranscribeDataConfig,
    CTCConfig,
    # 40 epochs of 1,000 joined sequences: ~6 minutes here, 1.6% digit errors on FSDD.
    train_defaults={"epochs": 40.0, "eval_every": 200},
    extra_configs={"audio": AudioConfig},
)


class TranscriberRun(Run):
    """A trained CTC transcriber: ``transcribe(paths)`` and ``evaluate(sequences)``.

    >>> run = rnnkit.load_transcriber("runs/digits")
    >>> run.transcribe(["runs/digits/example_test.wav"])
    [{'file': 'runs/digits/example_test.wav', 'text': '4071', 'tokens': ['4', '0', '7', '1']}]
    """

    recipe, network = RECIPE, CTCRecognizer

    def __init__(self, model, config, folder, device):
        super().__init__(model, config, folder, device)
        self.labels = LabelSet(config["data"]["labels"])
        self.audio = self.config_of("audio")
        self.extractor = FeatureExtractor(self.audio)
        # Single-character tokens (digits, letters) read best joined; words need spaces.
        self.separator = "" if all(len(name) == 1 for name in self.labels.names) else " "

    def decode(self, features: list[torch.Tensor], beam_width: int = 8):
        with self.inference():
            return transcribe_features(self.model, features, self.device, beam_width)

    def transcribe(self, paths, beam_width: int = 8) -> list[dict]:
        """The transcript of each WAV file; ``beam_width`` 1 decodes greedily."""
        paths = list(paths)
        results = self.decode([self.extractor.read(p) for p in paths], beam_width)
        output = []
        for path, (ids, log_probability) in zip(paths, results):
            tokens = [self.labels.names[i - 1] for i in ids]
            entry = {"file": str(path), "text": self.separator.join(tokens), "tokens": tokens}
            if log_probability is not None:
                entry["log_probability"] = log_probability
            output.append(entry)
        return output

    def evaluate(self, sequences, beam_width: int = 8) -> dict:
        """Token error rate (edit distance per reference token) and the share of
        sequences transcribed exactly, on ``[(features, token ids)]``."""
        if not sequences:
            raise DataError("no sequences to evaluate")
        hypotheses = [ids for ids, _ in self.decode([f for f, _ in sequences], beam_width)]
        references = [tokens for _, tokens in sequences]
        exact = sum(h == r for h, r in zip(hypotheses, references)) / len(references)
        return {
            "token_error_rate": error_rate(references, hypotheses),
            "sequence_accuracy": exact,
            "sequences": len(references),
            "tokens": sum(map(len, references)),
            "beam_width": beam_width,
        }

    def sequences(self, source=None, split: str = "test"):
        """The fixed evaluation sequences of one split of ``source`` (default: the
        training data), built as in training: the same recordings, joins and seed."""
        data = self.config_of("data")
        seed = self.config["train"]["seed"]
        part = data.split_of(read_recordings(source or data.data, data.pattern), seed)[split]
        joiner = _joiner(part, self.labels, data, self.extractor)
        count = data.valid_sequences if split == "valid" else data.test_sequences
        return joiner.fixed(count, seed + (1 if split == "valid" else 2), self.extractor)


def _joiner(
    recordings, labels: LabelSet, data: TranscribeDataConfig, extractor: FeatureExtractor
) -> Joiner:
    if not recordings:
        raise DataError(f"{data.data}: a split has no recordings; check --split and the fractions")
    tokens = (encode_labels(recordings, labels) + 1).tolist()  # 0 is the CTC blank
    waves = [extractor.waveform(*read_wav(r.path)) for r in recordings]
    return Joiner(waves, tokens, data, extractor.config.sample_rate)


def train_transcriber(
    out,
    data: TranscribeDataConfig | None = None,
    audio: AudioConfig | None = None,
    model: CTCConfig | None = None,
    train: TrainConfig | None = None,
    resume: bool = False,
    on_step=None,
):
    """Trains a CTC transcriber into ``out``; returns ``(TranscriberRun, Counters, test
    report)``: :meth:`TranscriberRun.evaluate` on the test sequences with beam search
    (None without test recordings). The first test sequence is saved as
    ``example_test.wav`` (its words in ``example_test.txt``) to try ``rnnkit transcribe`` on."""
    start = start_speech_run(RECIPE, out, data, audio, model, train, resume)
    data, model, audio, seed = start.data, start.model, start.extras["audio"], start.train.seed
    extractor = FeatureExtractor(audio)
    parts = data.split_of(read_recordings(data.data, data.pattern), seed)
    labels = LabelSet.from_labels(r.label for r in parts["train"])
    joiner = _joiner(parts["train"], labels, data, extractor)
    valid = _joiner(parts["valid"], labels, data, extractor).fixed(
        data.valid_sequences, seed + 1, extractor
    )
    model.input_size, model.num_tokens = audio.size, len(labels.names)
    task = TranscribeTask(
        joiner, data.waveform_transform(extractor), valid, data, seed, start.device
    )
    derived, fingerprint = speech_fingerprint(labels, parts)
    counters = fit(
        start,
        lambda: CTCRecognizer(model),
        task,
        derived=derived,
        fingerprint=fingerprint,
        on_step=on_step,
    )
    run = TranscriberRun.load(out, device=start.train.device)
    if not parts["test"]:
        return run, counters, None
    test = _joiner(parts["test"], labels, data, extractor)
    wave, tokens = test.draw(torch.Generator().manual_seed(seed + 2), 1)[0]
    write_wav(start.folder.file("example_test.wav"), wave, audio.sample_rate)
    write_text(
        start.folder.file("example_test.txt"),
        run.separator.join(labels.names[t - 1] for t in tokens) + "\n",
    )
    return run, counters, run.evaluate(run.sequences(split="test"))


def load_transcriber(folder, device: str = "auto") -> TranscriberRun:
    """Loads the best weights of a transcription run folder with its tokens and feature settings."""
    return TranscriberRun.load(folder, device)
