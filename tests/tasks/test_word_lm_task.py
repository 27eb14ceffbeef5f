"""Word-level language models: PTB-style files in, perplexity, next words and text out."""

import gzip
import itertools
import json
import math

import pytest
import torch

from rnnkit.cli import main
from rnnkit.data import read_lines
from rnnkit.errors import ConfigError, DataError
from rnnkit.models import LanguageModelConfig
from rnnkit.tasks.language_model import (
    WORD_RECIPE,
    TextDataConfig,
    load_language_model,
    train_language_model,
)
from rnnkit.train import TrainConfig
from tests.conftest import SHARED_DATA

AWD = LanguageModelConfig(
    embedding_size=8,
    hidden_size=16,
    num_layers=2,
    tie_weights=True,
    embedding_dropout=0.1,
    input_dropout=0.2,
    layer_dropout=0.2,
    output_dropout=0.2,
    weight_drop=0.3,
    activation_penalty=2.0,
    temporal_penalty=1.0,
)


@pytest.fixture(scope="module")
def ptb_slice(tmp_path_factory):
    """The first 600 lines of PTB's training file (gzip), and 150 of its validation file."""
    folder = tmp_path_factory.mktemp("ptb")
    ptb = SHARED_DATA / "ptb"
    if not ptb.is_dir():
        pytest.skip(f"the PTB folder {ptb} is missing")
    train = folder / "train.txt.gz"
    lines = itertools.islice(read_lines(ptb / "ptb.train.txt.gz"), 600)
    train.write_bytes(gzip.compress("".join(line + "\n" for line in lines).encode()))
    valid = folder / "valid.txt"
    valid.write_text(
        "".join(line + "\n" for line in itertools.islice(read_lines(ptb / "ptb.valid.txt"), 150))
    )
    return train, valid


def _data(train, valid, **options):
    return TextDataConfig(
        data=str(train),
        valid=str(valid),
        tokenizer="word",
        batch_size=4,
        seq_len=12,
        variable_seq_len=True,
        **options,
    )


def _train(out, train, valid, on_step=None, **options):
    config = TrainConfig(max_steps=16, eval_every=8, warmup_steps=2, progress=False, seed=0)
    return train_language_model(
        out,
        _data(train, valid, **options),
        LanguageModelConfig(**vars(AWD)),
        config,
        on_step=on_step,
    )


def _losses(folder):
    rows = map(json.loads, (folder / "metrics.jsonl").read_text().splitlines())
    return [row["train_loss"] for row in rows if "train_loss" in row]


def test_word_lm_trains_scores_the_test_file_and_resumes_exactly(tmp_path, ptb_slice):
    train, valid = ptb_slice
    run, counters = _train(tmp_path / "whole", train, valid, test=str(valid))
    assert counters.step == 16
    metrics = json.loads((tmp_path / "whole" / "test_metrics.json").read_text())
    assert metrics["tokens"] > 2000 and metrics["unknown_tokens"] > 0
    assert math.isclose(metrics["perplexity"], math.exp(metrics["loss"]), rel_tol=1e-12)
    assert math.isclose(metrics["bits_per_token"], metrics["loss"] / math.log(2))
    assert metrics == {**run.evaluate(valid), "unknown_tokens": metrics["unknown_tokens"]}
    saved = json.loads((tmp_path / "whole" / "config.json").read_text())
    assert saved["data"]["vocabulary"]["type"] == "word"

    def interrupt(trainer, loss):
        if trainer.counters.step == 5:
            trainer.stop_requested = True

    _, counters = _train(tmp_path / "split", train, valid, on_step=interrupt, test=str(valid))
    assert counters.stopped_because == "interrupted"
    assert not (tmp_path / "split" / "test_metrics.json").exists()
    train_language_model(
        tmp_path / "split", resume=True, train=TrainConfig(max_steps=16, progress=False)
    )
    # Variable windows, weight drop and the locked masks all continue exactly.
    assert _losses(tmp_path / "split") == _losses(tmp_path / "whole")


def test_next_words_generation_and_unknown_prompt_words(tmp_path, ptb_slice):
    train, valid = ptb_slice
    run, _ = _train(tmp_path / "run", train, valid)
    ranked = run.next_tokens("the new york stock", top_k=5)
    assert len(ranked) == 5 and all(0 < p < 1 for _, p in ranked)
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    ids = run.encode_prompt("the new york stock")
    with run.inference():  # the run's precision: bf16 where --precision auto chose it
        logits, _ = run.model(ids.unsqueeze(0))
    probabilities = torch.softmax(logits[0, -1].float(), -1)
    top = probabilities[1:].argmax() + 1  # <pad> (id 0) is never a prediction
    assert ranked[0] == (run.tokenizer.tokens[top], pytest.approx(float(probabilities[top])))
    assert run.unknown_words("the zzyzx market") == ["zzyzx"]
    assert run.encode_prompt("the zzyzx")[2] == 1  # <unk>, after the leading <eos>
    text = run.generate("the market", length=30, seed=3)
    assert text == run.generate("the market", length=30, seed=3)
    assert len(text.split()) + text.count("\n") >= 30 and "<pad>" not in text


def test_mixed_line_ends_and_a_bom_read_as_the_same_text(tmp_path, ptb_slice):
    train, valid = ptb_slice
    lines = list(read_lines(train))
    messy = tmp_path / "messy.txt"
    ends = itertools.cycle(["\r\n", "\n", "\r"])
    messy.write_bytes(("\ufeff" + "".join(line + next(ends) for line in lines)).encode())
    config = TrainConfig(max_steps=1, progress=False)
    clean_run, _ = train_language_model(
        tmp_path / "clean", _data(train, valid), LanguageModelConfig(**vars(AWD)), config
    )
    messy_run, _ = train_language_model(
        tmp_path / "messy", _data(messy, valid), LanguageModelConfig(**vars(AWD)), config
    )
    assert messy_run.tokenizer.tokens == clean_run.tokenizer.tokens
    assert torch.equal(
        messy_run.tokenizer.encode_file(messy), clean_run.tokenizer.encode_file(train)
    )


def test_bad_word_files_get_one_line_errors(tmp_path, ptb_slice):
    train, valid = ptb_slice
    short = tmp_path / "short.txt"
    short.write_text("a few words\nonly\n")
    with pytest.raises(DataError) as error:
        _train(tmp_path / "a", short, valid)
    assert str(error.value) == (
        f"{short}: the training split has 6 tokens; one batch of 4 streams x 12 steps needs "
        "at least 52: use a longer file or a smaller --batch-size/--seq-len"
    )
    blank = tmp_path / "blank.txt"
    blank.write_text("\n  \n\t\n")
    with pytest.raises(DataError, match=f"^{blank}: has no tokens after tokenisation; expected"):
        _train(tmp_path / "b", blank, valid)
    empty_valid = tmp_path / "empty.txt"
    empty_valid.write_text("")
    with pytest.raises(DataError, match=f"^{empty_valid}: the validation text has 0 tokens"):
        _train(tmp_path / "c", train, empty_valid)
    with pytest.raises(DataError, match=f"^{tmp_path}: is a directory; expected a UTF-8"):
        _train(tmp_path / "d", train, tmp_path)


def test_word_cli_predicts_generates_and_evaluates(tmp_path, ptb_slice, capsys):
    train, valid = ptb_slice
    out = tmp_path / "run"
    tiny = ["--batch-size", "4", "--seq-len", "12", "--hidden-size", "16", "--embedding-size", "8"]
    args = ["train", "lm", "--tokenizer", "word", "--data", str(train), "--valid", str(valid)]
    assert (
        main(
            [
                *args,
                "--test",
                str(valid),
                "--out",
                str(out),
                *tiny,
                "--max-steps",
                "4",
                "--no-progress",
                "--sample-length",
                "5",
            ]
        )
        == 0
    )
    printed = capsys.readouterr()
    assert "perplexity" in printed.out and "--- 5 tokens sampled from" in printed.out
    saved = json.loads((out / "config.json").read_text())
    for name, value in {**WORD_RECIPE.model_defaults, "hidden_size": 16}.items():
        if name != "embedding_size":
            assert saved["model"][name] == value, name  # the word recipe is the default
    assert saved["data"]["variable_seq_len"] is True
    assert main(["predict", str(out), "the zzyzx stock", "--top-k", "3", "--json"]) == 0
    printed = capsys.readouterr()
    answer = json.loads(printed.out)
    assert answer["input"] == "the zzyzx stock" and len(answer["next"]) == 3
    assert printed.err == "note: read as <unk>, not in the vocabulary: zzyzx\n"
    assert main(["generate", str(out), "--prompt", "the", "--length", "7", "--seed", "1"]) == 0
    assert capsys.readouterr().out.strip()
    assert main(["evaluate", str(out), "--data", str(valid), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tokens"] > 2000
    with pytest.raises(ConfigError, match=r"^length must be a positive whole number; got 0$"):
        load_language_model(out).generate("the", 0)
    with pytest.raises(SystemExit) as stopped:  # argparse checks it, naming the flag
        main(["generate", str(out), "--length", "-5"])
    assert stopped.value.code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .endswith("error: argument --length: must be in [1, 10000000]; got -5")
    )
