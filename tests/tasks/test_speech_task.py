"""Spoken digits end to end on a slice of FSDD: learn, per-speaker reports,
predict from WAV files, bit-identical reload and resume with augmentation, and
CTC transcription with greedy and beam decoding."""

import importlib.util

import pytest
import torch

from rnnkit.data.audio import change_speed
from rnnkit.metrics.transcription import edit_distance
from rnnkit.data.wav import read_wav
from rnnkit.errors import ConfigError, DataError, RunFolderError
from rnnkit.models.classifier import ClassifierConfig
from rnnkit.models.ctc import CTCConfig
from rnnkit.tasks.classifier import predict_probabilities
from rnnkit.tasks.speech import SpeechDataConfig, load_speech_classifier, train_speech_classifier
from rnnkit.tasks.transcribe import TranscribeDataConfig, load_transcriber, train_transcriber
from rnnkit.train import TrainConfig

from tests.conftest import FSDD_DIGITS as DIGITS
from tests.conftest import FSDD_SPEAKERS as SPEAKERS


def classify(digits, out, **train):
    data = SpeechDataConfig(
        data=str(digits), test_indices="0-2", valid_fraction=0.15, batch_size=16
    )
    model = ClassifierConfig(hidden_size=32, pooling="mean", dropout=0.1, embedding_dropout=0.0)
    on_step = train.pop("on_step", None)
    config = TrainConfig(
        **{
            "max_steps": 60,
            "eval_every": 20,
            "learning_rate": 1e-2,
            "warmup_steps": 5,
            "progress": False,
            "select_by": "accuracy",
            # fp32 on every CPU: --precision auto trains in bf16 where the CPU has AVX-512
            # BF16 and in fp32 elsewhere, and the accuracy floor below must hold on both
            "precision": "fp32",
            **train,
        }
    )
    return train_speech_classifier(out, data, None, model, config, on_step=on_step)


def test_classifier_learns_reports_per_speaker_and_predicts_files(fsdd_slice, tmp_path):
    run, counters, report = classify(fsdd_slice, tmp_path / "run")
    assert counters.step == 60 and report["accuracy"] >= 0.8
    assert sorted(report["per_speaker"]) == sorted(SPEAKERS)
    assert all(v["support"] == 9 for v in report["per_speaker"].values())  # 3 digits x indices 0-2
    assert (tmp_path / "run" / "confusion_test.png").stat().st_size > 0
    test = run.split(split="test")
    predictions = run.predict([r.path for r in test])
    assert [p["file"] for p in predictions] == [str(r.path) for r in test]
    right = sum(p["label"] == r.label for p, r in zip(predictions, test)) / len(test)
    assert right == pytest.approx(report["accuracy"])
    again = load_speech_classifier(tmp_path / "run").predict([test[0].path])[0]
    # reload: bit-identical probabilities on the same code path (a batch of one, as here)
    assert again == run.predict([test[0].path])[0]
    # alone or padded in a batch of 27: oneDNN may pick other kernels for another batch size
    # and sum in another order, so equal to float32 rounding, not bit for bit
    batched = predictions[0]["probabilities"]
    assert batched[again["label"]] >= max(batched.values()) - 2e-5  # its label, unless tied
    assert again["probabilities"] == pytest.approx(predictions[0]["probabilities"], abs=1e-5)
    run.test_speeds = [
        0.9,
        1.0,
        1.1,
    ]  # test-time augmentation: the mean log-probability over the speeds
    paths = [r.path for r in test[:4]]
    averaged = run.probabilities(paths)
    logs = []
    for speed in run.test_speeds:
        features = [
            run.extractor.extract(change_speed(run.extractor.waveform(*read_wav(p)), speed))
            for p in paths
        ]
        with run.inference():
            logs.append(predict_probabilities(run.model, features, 64, run.device).log())
    assert torch.allclose(averaged, torch.softmax(torch.stack(logs).mean(0), 1), atol=1e-6)


def test_resume_with_speed_perturbation_and_masks_is_bit_identical(fsdd_slice, tmp_path):
    classify(fsdd_slice, tmp_path / "whole", max_steps=30)

    def interrupt(trainer, loss):
        if trainer.counters.step == 13:
            trainer.stop_requested = True

    assert (
        classify(fsdd_slice, tmp_path / "split", max_steps=30, on_step=interrupt)[1].stopped_because
        == "interrupted"
    )
    _, counters, _ = train_speech_classifier(
        tmp_path / "split", resume=True, train=TrainConfig(max_steps=30, progress=False)
    )
    assert counters.step == 30
    whole, split = (
        load_speech_classifier(tmp_path / n).model.state_dict() for n in ("whole", "split")
    )
    assert all(torch.equal(whole[k], split[k]) for k in whole)


def test_speaker_split_tests_only_the_held_out_speaker(fsdd_slice, tmp_path):
    data = SpeechDataConfig(data=str(fsdd_slice), test_speakers="theo")
    config = TrainConfig(max_steps=2, progress=False)
    run, _, report = train_speech_classifier(
        tmp_path / "theo", data, None, ClassifierConfig(hidden_size=8), config
    )
    assert (
        list(report["per_speaker"]) == ["theo"]
        and sum(report["per_class"][d]["support"] for d in DIGITS) == 36
    )
    assert run.config["data"]["counts"] == {"train": 65, "valid": 7, "test": 36}


def test_data_errors_are_named(fsdd_slice, tmp_path):
    with pytest.raises(ConfigError, match=r"^valid_fraction must be in \(0, 1\); got 0.0$"):
        SpeechDataConfig(data=str(fsdd_slice), valid_fraction=0.0)
    with pytest.raises(
        ConfigError,
        match=r"^speeds must be comma-separated speeds in \[0.25, 4\], e.g. 0.9,1.0,1.1; "
        r"got '1,x'$",
    ):
        SpeechDataConfig(data=str(fsdd_slice), speeds="1,x")
    with pytest.raises(
        DataError, match=r"the valid split is empty; check --split and the fractions$"
    ):
        train_speech_classifier(
            tmp_path / "x",
            SpeechDataConfig(data=str(fsdd_slice), valid_fraction=0.001),
        )
    with pytest.raises(RunFolderError):
        train_speech_classifier(tmp_path / "never-trained", resume=True)


def test_ctc_transcriber_trains_decodes_and_resumes(fsdd_slice, tmp_path):
    data = TranscribeDataConfig(
        data=str(fsdd_slice),
        test_indices="0-2",
        epoch_sequences=64,
        valid_sequences=16,
        test_sequences=24,
        batch_size=16,
    )
    model = CTCConfig(hidden_size=24, num_layers=1)
    config = TrainConfig(max_steps=12, eval_every=6, progress=False)
    run, counters, report = train_transcriber(tmp_path / "ctc", data, None, model, config)
    assert counters.step == 12 and report["sequences"] == 24 and report["beam_width"] == 8
    assert 2 * 24 <= report["tokens"] <= 5 * 24
    sequences = run.sequences(split="test")
    assert (
        run.evaluate(sequences) == report
    )  # the test sequences are rebuilt exactly from the saved run
    hypotheses = [ids for ids, _ in run.decode([f for f, _ in sequences], beam_width=1)]
    errors = sum(edit_distance(t, h) for (_, t), h in zip(sequences, hypotheses))
    assert run.evaluate(sequences, beam_width=1)["token_error_rate"] == errors / report["tokens"]
    example = tmp_path / "ctc" / "example_test.wav"
    result = run.transcribe([example], beam_width=4)[0]
    assert result["file"] == str(example) and set(result["text"]) <= set(DIGITS)
    assert result["text"] == "".join(result["tokens"]) and "log_probability" in result
    assert "log_probability" not in run.transcribe([example], beam_width=1)[0]
    assert all(1 <= t <= 3 for _, tokens in sequences for t in tokens)

    def interrupt(trainer, loss):
        if trainer.counters.step == 5:
            trainer.stop_requested = True

    train_transcriber(tmp_path / "split", data, None, model, config, on_step=interrupt)
    train_transcriber(
        tmp_path / "split", resume=True, train=TrainConfig(max_steps=12, progress=False)
    )
    whole, split = (load_transcriber(tmp_path / n).model.state_dict() for n in ("ctc", "split"))
    assert all(torch.equal(whole[k], split[k]) for k in whole)


def test_features_are_computed_once_unless_speed_noise_or_warp_needs_the_waveform():
    from rnnkit.data.audio import AudioConfig, FeatureExtractor, TrainingFeatures

    extractor = FeatureExtractor(AudioConfig())
    waves = [torch.randn(800), torch.randn(1200)]
    inputs, transform = SpeechDataConfig(
        speeds="1.0", noise_snr=0, vtlp=0, time_masks=0, feature_masks=0
    ).training_inputs(extractor, waves)
    assert transform is None and [x.shape for x in inputs] == [(11, 39), (16, 39)]
    inputs, transform = SpeechDataConfig(
        speeds="1.0", noise_snr=0, time_masks=0, feature_masks=0
    ).training_inputs(extractor, waves)
    assert inputs is waves and transform.vtlp == 0.1
    inputs, transform = SpeechDataConfig(speeds="1.0").training_inputs(extractor, waves)
    assert (
        inputs is waves and isinstance(transform, TrainingFeatures) and transform.noise_snr == 15.0
    )
    inputs, transform = SpeechDataConfig(noise_snr=0).training_inputs(extractor, waves)
    assert inputs is waves and transform.noise_snr is None and len(transform.speeds) == 7


def test_dataloader_workers_make_the_same_batches(fsdd_slice, tmp_path):
    """--workers computes the augmented features in DataLoader processes: the same batches
    (each is seeded by its index), so the same losses, and resume stays exact.

    Not bit for bit: a worker computes its features with one thread, the main process with
    the default threads, and the FFT and matrix products then sum in another order (on
    AVX2-only CPUs the features differed in the 7th digit). So the batches are compared to
    1e-5 of the features' scale and the losses of 6 steps to 1e-4 relative; a batch drawn
    with another seed (another speed, other masks) differs by far more than that."""
    import json

    from rnnkit.data.audio import FeatureExtractor
    from rnnkit.data.buckets import LoadedBatches, PaddedBatches
    from rnnkit.data.spectra import AudioConfig
    from rnnkit.data.speech import read_recordings

    here = SpeechDataConfig(
        data=str(fsdd_slice), test_indices="0-2", valid_fraction=0.15, batch_size=16
    )
    extractor = FeatureExtractor(AudioConfig())
    recordings = read_recordings(here.data, here.pattern)[:24]
    waves = [extractor.waveform(*read_wav(r.path)) for r in recordings]
    inputs, transform = here.training_inputs(extractor, waves)
    assert transform is not None and inputs is waves  # the default recipe augments waveforms
    rows = [list(range(0, 8)), list(range(8, 16)), list(range(16, 24))]
    targets = torch.zeros(len(recordings), dtype=torch.long)
    batches = PaddedBatches(inputs, targets, rows, transform=transform, seed=1)
    loaded = LoadedBatches(batches, workers=2)
    for index in range(len(rows)):
        (padded, lengths, _), (far, far_lengths, _) = batches[index], loaded[index]
        assert torch.equal(lengths, far_lengths)
        scale = padded.abs().max().item()
        assert torch.allclose(far, padded, rtol=0, atol=1e-5 * scale), index
    other = PaddedBatches(inputs, targets, rows, transform=transform, seed=2)[0][0]
    if other.shape == batches[0][0].shape:
        assert not torch.allclose(other, batches[0][0], rtol=0, atol=1e-2 * scale)

    def losses(folder):
        lines = (folder / "metrics.jsonl").read_text().splitlines()
        return [json.loads(line)["train_loss"] for line in lines if "train_loss" in line]

    model = ClassifierConfig(hidden_size=16)
    for name, workers in (("here", 0), ("workers", 2)):
        data = SpeechDataConfig(**{**vars(here), "workers": workers})
        train_speech_classifier(
            tmp_path / name,
            data,
            None,
            model,
            TrainConfig(max_steps=6, eval_every=3, progress=False, precision="fp32"),
        )
    here_losses = losses(tmp_path / "here")
    assert len(here_losses) == 6
    assert losses(tmp_path / "workers") == pytest.approx(here_losses, rel=1e-4)


def test_an_ensemble_shares_the_split_and_averages_its_members_log_probabilities(
    fsdd_slice, tmp_path
):
    import json

    # A random split depends on the seed: the member (seed 4) must still split as seed 3 does.
    data = SpeechDataConfig(
        data=str(fsdd_slice), split="random", test_fraction=0.2, batch_size=16, ensemble=2
    )
    model = ClassifierConfig(hidden_size=16, pooling="mean", embedding_dropout=0.0)
    train = TrainConfig(max_steps=12, eval_every=6, seed=3, progress=False, precision="fp32")
    run, _, report = train_speech_classifier(tmp_path / "run", data, None, model, train)
    member_folder = tmp_path / "run" / "members" / "1"
    saved = json.loads((member_folder / "config.json").read_text())
    assert saved["train"]["seed"] == 4 and saved["data"]["split_seed"] == 3
    assert saved["data"]["ensemble"] == 1 and len(run.members) == 2
    member = load_speech_classifier(member_folder)
    test = run.split(split="test")
    assert [r.path for r in member.split(split="test")] == [r.path for r in test]
    paths = [r.path for r in test]
    member.test_speeds = run.test_speeds = [1.0]
    both = run.probabilities(paths)
    run.members = run.members[:1]
    first, second = run.probabilities(paths), member.probabilities(paths)
    assert not torch.allclose(first, second, atol=1e-3)  # different seeds, different models
    expected = torch.softmax((first.log() + second.log()) / 2, dim=1)
    assert torch.allclose(both, expected, atol=1e-5)
    if importlib.util.find_spec("onnx"):  # a graph holds one model: export says so
        from rnnkit.export import export_run

        with pytest.raises(RunFolderError, match=r"an ensemble of 2 models; a graph holds one"):
            export_run(tmp_path / "run", tmp_path / "export")
        assert not (tmp_path / "export").exists()
    (member_folder / "model.safetensors").unlink()
    with pytest.raises(RunFolderError, match=r"an ensemble of 2 models, but .*members/1 has no"):
        load_speech_classifier(tmp_path / "run")


def test_the_transcriber_refuses_an_ensemble():
    with pytest.raises(
        ConfigError,
        match=r"^ensemble must be 1 for the transcriber \(it trains one model\); got 2$",
    ):
        TranscribeDataConfig(ensemble=2)


def test_ctrl_c_in_an_ensemble_member_stops_and_resume_finishes_it(fsdd_slice, tmp_path):
    data = SpeechDataConfig(data=str(fsdd_slice), test_indices="0-2", batch_size=16, ensemble=3)
    model = ClassifierConfig(hidden_size=16, pooling="mean", embedding_dropout=0.0)
    train = TrainConfig(max_steps=8, eval_every=4, progress=False, precision="fp32")
    seen = []

    def stop_in_the_second_member(trainer, loss):
        seen.append(trainer.folder.path.name)
        if trainer.folder.path.name == "1" and trainer.counters.step == 5:
            trainer.stop_requested = True

    out = tmp_path / "run"
    run, counters, report = train_speech_classifier(
        out, data, None, model, train, on_step=stop_in_the_second_member
    )
    assert run is None and report is None and counters.stopped_because == "interrupted"
    assert counters.step == 5 and not (out / "members" / "2").exists()  # the third never began
    run, counters, report = train_speech_classifier(out, resume=True)
    assert len(run.members) == 3
    test = run.split(split="test")  # the report scores the finished ensemble of three
    predictions = run.predict([r.path for r in test])
    right = sum(p["label"] == r.label for p, r in zip(predictions, test)) / len(test)
    assert report["accuracy"] == pytest.approx(right)
    saved = [load_speech_classifier(out / "members" / k).config["train"] for k in ("1", "2")]
    assert [t["seed"] for t in saved] == [1, 2]
