"""The music task: the NLL convention by hand, training, generation in O(1) per
step matching the one-shot forward, bit-identical reload, and the CLI."""

import json
import math

import numpy as np
import pytest
import torch

from rnnkit.cli import main
from rnnkit.models.music import PianoRollModel, PianoRollModelConfig, nll_per_step
from rnnkit.tasks.music import (
    MusicDataConfig,
    MusicTask,
    batch_of,
    load_music_model,
    split_nll,
    train_music,
    transposed,
)
from rnnkit.train import TrainConfig


def test_nll_is_summed_over_keys_and_averaged_over_scored_steps():
    logits = torch.zeros(1, 3, 88)  # every key p = 0.5: each step costs 88 log 2
    logits[0, 2, 0] = math.log(3.0)  # key 0 at step 2: p = 0.75
    targets = torch.zeros(1, 3, 88)
    targets[0, 2, 0] = 1.0
    total, steps = nll_per_step(logits, targets, torch.tensor([[0.0, 1.0, 1.0]]))
    assert steps.item() == 2
    assert total.item() == pytest.approx(
        88 * math.log(2) + 87 * math.log(2) - math.log(0.75), rel=1e-6
    )


def test_batches_start_from_silence_and_score_steps_two_on():
    pieces = [torch.eye(88)[:5], torch.eye(88)[10:13]]
    inputs, lengths, targets, mask = batch_of(pieces, [0, 1], "cpu", score_first=False)
    assert lengths.tolist() == [5, 3] and inputs[:, 0].abs().sum() == 0
    assert torch.equal(inputs[0, 1:], pieces[0][:4]) and torch.equal(targets[1, :3], pieces[1])
    assert mask.tolist() == [[0, 1, 1, 1, 1], [0, 1, 1, 0, 0]]
    assert batch_of(pieces, [0, 1], "cpu", score_first=True)[3][:, 0].tolist() == [1, 1]


def test_split_nll_weighs_every_step_the_same():
    torch.manual_seed(0)
    model = PianoRollModel(PianoRollModelConfig(hidden_size=16, dropout=0.0)).eval()
    pieces = [(torch.rand(n, 88) < 0.05).float() for n in (4, 9, 17)]
    together = split_nll(model, pieces, "cpu", batch_size=3)
    totals = [split_nll(model, [p], "cpu")["loss"] * (len(p) - 1) for p in pieces]
    assert together["steps"] == 3 + 8 + 16
    assert together["loss"] == pytest.approx(sum(totals) / 27, rel=1e-5)


def write_pieces(path, seed=0):
    """Rising arpeggios: a pattern an RNN learns in a few hundred steps."""
    generator = np.random.default_rng(seed)

    def piece():
        start = int(generator.integers(48, 60))
        return [[start + (t % 4) * 4, start - 12] for t in range(int(generator.integers(12, 30)))]

    path.write_text(
        json.dumps(
            {
                split: [piece() for _ in range(n)]
                for split, n in (("train", 40), ("valid", 8), ("test", 8))
            }
        )
    )
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("music")
    data = write_pieces(folder / "arpeggios.json")
    run, counters = train_music(
        folder / "run",
        MusicDataConfig(data=str(data), batch_size=8),
        PianoRollModelConfig(cell="gru", hidden_size=32, dropout=0.0),
        TrainConfig(
            max_steps=200,
            eval_every=50,
            learning_rate=1e-2,
            warmup_steps=10,
            progress=False,
            precision="fp32",
        ),
    )
    return run, data, folder


def test_training_learns_far_below_chance(trained):
    run, data, _ = trained
    result = run.evaluate(data, "test")
    assert result["pieces"] == 8 and result["loss"] < 0.1 * 88 * math.log(2)


def test_generation_keeps_the_prime_is_seeded_and_follows_the_model(trained):
    """Generation returns the prime then the new steps, reproducibly per seed, and the
    new steps are likely under a one-shot forward pass over the whole piece (the
    step-by-step logits equal the one-shot ones: tests/models/test_music_model.py)."""
    run, data, _ = trained
    from rnnkit.data.music import read_piano_rolls

    prime = read_piano_rolls(data)["test"][0][:6]
    roll = run.generate(20, prime=prime, temperature=1.0, seed=3)
    assert roll.shape == (26, 88) and np.array_equal(roll[:6], prime)
    assert np.array_equal(run.generate(20, prime=prime, seed=3), roll)
    # the model is nearly certain of these arpeggios at temperature 1; hotter, seeds differ
    hotter = [run.generate(20, prime=prime, temperature=3.0, seed=seed) for seed in (4, 5)]
    assert not np.array_equal(hotter[0], hotter[1])
    # Near-greedy generation follows the model's own conditionals: at temperature 0.01 a key
    # whose logit is beyond +-0.2 is drawn as its sign but for a chance of e^-20. The one-shot
    # forward pass over the generated piece gives each key's logit given the keys below it and
    # the steps before, so a generator that lost its state or its conditioning fails here.
    cold = run.generate(20, prime=prime, temperature=0.01, seed=3)
    with torch.no_grad():
        inputs = torch.cat([torch.zeros(1, 88), torch.from_numpy(cold[:-1])])[None]
        logits, _ = run.model(inputs, targets=torch.from_numpy(cold)[None])
    logits, sampled = logits[0, 6:], torch.from_numpy(cold[6:]).bool()
    decided = logits.abs() > 0.2
    assert decided.float().mean() > 0.9 and sampled.any()
    assert torch.equal(sampled[decided], (logits > 0)[decided])


def test_reload_gives_identical_scores_and_samples(trained):
    run, data, folder = trained
    again = load_music_model(folder / "run")
    assert again.evaluate(data, "valid") == run.evaluate(data, "valid")
    assert np.array_equal(again.generate(10, seed=1), run.generate(10, seed=1))


def test_cli_evaluate_and_generate(trained, tmp_path, capsys):
    _, data, folder = trained
    assert (
        main(["evaluate", str(folder / "run"), "--data", str(data), "--split", "valid", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["split"] == "valid"
    out = tmp_path / "piece.mid"
    assert (
        main(
            [
                "generate",
                str(folder / "run"),
                "--length",
                "16",
                "--out",
                str(out),
                "--prime",
                str(data),
                "--prime-piece",
                "test:2",
                "--prime-steps",
                "4",
                "--seed",
                "0",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith(f"wrote {out} (20 steps, ")
    assert (
        out.read_bytes()[:4] == b"MThd" and out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    )
    assert main(["generate", str(folder / "run"), "--length", "4"]) == 2
    assert (
        capsys.readouterr().err
        == "rnnkit: error: a music model writes MIDI: give --out piece.mid\n"
    )


def test_compare_music_matches_budgets_and_reports_the_marginal_baseline(trained, tmp_path):
    from rnnkit.lab.compare import CompareConfig, compare
    from rnnkit.lab.music import marginal_baseline
    from rnnkit.data.music import read_piano_rolls

    _, data, _ = trained
    config = CompareConfig(
        task="music",
        cells="rnn,lstm,gru",
        hidden_size=16,
        steps=20,  # a step count ends each run, not the clock: the same on every machine
        time_budget=600,
        data=str(data),
        device="cpu",
        precision="fp32",
    )
    rows = compare(config, tmp_path, log=lambda message: None)
    assert [r["cell"] for r in rows] == ["rnn", "lstm", "gru"]
    counts = [r["parameters"] for r in rows]
    assert max(counts) / min(counts) < 1.1
    splits = read_piano_rolls(data)
    assert rows[0]["baseline"] == pytest.approx(marginal_baseline(splits))
    assert (tmp_path / "compare.md").is_file() and (tmp_path / "compare.png").is_file()


def test_marginal_baseline_by_hand():
    from rnnkit.lab.music import marginal_baseline

    train = np.zeros((4, 88), dtype=np.float32)
    train[:2, 0] = 1  # key 0 is on half the time; the others never (clipped to 1e-4)
    test = np.zeros((2, 88), dtype=np.float32)
    test[1, 0] = 1  # the scored step (step 2) has key 0 on
    expected = -math.log(0.5) - 87 * math.log(1 - 1e-4)
    assert marginal_baseline({"train": [train], "test": [test]}) == pytest.approx(
        expected, rel=1e-6
    )


def test_transposition_moves_keys_and_drops_what_falls_off():
    generator = torch.Generator().manual_seed(6)
    rolls = (torch.rand(3, 5, 88, generator=generator) < 0.3).float()
    moved = transposed(rolls, [2, -3, 0])
    assert torch.equal(moved[0, :, 2:], rolls[0, :, :86]) and not moved[0, :, :2].any()
    assert torch.equal(moved[1, :, :85], rolls[1, :, 3:]) and not moved[1, :, 85:].any()
    assert torch.equal(moved[2], rolls[2])
    assert not transposed(rolls, [88, -88, 100]).any()


def test_transposed_batches_are_seeded_by_epoch_and_inputs_match_targets():
    pieces = [torch.rand(n, 88).round() for n in (6, 7, 8, 9, 10, 11)]
    task = MusicTask(pieces, pieces, 2, seed=4, device=torch.device("cpu"), transpose=5)
    first, again, other = task.batches(0), task.batches(0), task.batches(1)
    assert first == again and first != other
    shifts = [shift for _, batch_shifts in first for shift in batch_shifts]
    assert all(-5 <= shift <= 5 for shift in shifts) and len(set(shifts)) > 1
    rows, row_shifts = first[0]
    inputs, _, targets, _ = batch_of(pieces, rows, torch.device("cpu"), True, row_shifts)
    assert torch.equal(inputs[:, 1:], targets[:, :-1])  # one shift per piece, both sides
    plain = MusicTask(pieces, pieces, 2, seed=4, device=torch.device("cpu"))
    assert [rows for rows, _ in plain.batches(0)] == [rows for rows, _ in first]
    assert all(shifts is None for _, shifts in plain.batches(0))
