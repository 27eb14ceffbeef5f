"""The forecasters: shapes, the per-window normalisation, channel independence,
parallel against sequential decoding, teacher forcing against free running, and the losses."""

import pytest
import torch

from rnnkit.models.forecaster import Forecaster, ForecasterConfig

ARCHITECTURES = ("segment", "direct", "autoregressive")


def make(architecture, seed=0, **options):
    torch.manual_seed(seed)
    config = dict(
        architecture=architecture,
        lookback=12,
        horizon=6,
        segment_length=4,
        hidden_size=16,
        targets=3,
    )
    return Forecaster(ForecasterConfig(**{**config, **options})).eval()


def inputs(seed=1, batch=5, targets=3, past=0, future=0):
    generator = torch.Generator().manual_seed(seed)
    history = torch.randn(batch, 12, targets, generator=generator)
    return (
        history,
        torch.randn(batch, 12, past, generator=generator) if past else None,
        torch.randn(batch, 18, future, generator=generator) if future else None,
    )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("independent", [True, False])
def test_shapes_with_covariates_and_quantiles(architecture, independent):
    model = make(
        architecture,
        channel_independent=independent,
        past_covariates=2,
        future_covariates=3,
        quantiles="0.1,0.5,0.9",
        cell="lstm",
        num_layers=2,
    )
    forecast = model(*inputs(past=2, future=3))
    assert forecast.shape == (5, 6, 3, 3) and model.point(forecast).shape == (5, 6, 3)
    assert torch.equal(model.point(forecast), forecast[..., 1])


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_last_value_normalisation_makes_forecasts_shift_equivariant(architecture):
    """SegRNN's normalisation: adding a constant to the history adds it to the forecast."""
    model = make(architecture)
    history, _, _ = inputs()
    torch.testing.assert_close(model(history + 7.5), model(history) + 7.5, atol=1e-5, rtol=0)
    scaled = make(architecture, normalise="mean")
    torch.testing.assert_close(scaled(history * 3 + 2), scaled(history) * 3 + 2, atol=1e-4, rtol=0)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_channel_independent_columns_do_not_see_each_other(architecture):
    independent, joint = make(architecture), make(architecture, channel_independent=False)
    history, _, _ = inputs()
    changed = history.clone()
    changed[:, :, 0] += torch.linspace(0, 3, 12)
    assert torch.equal(independent(history)[..., 1:], independent(changed)[..., 1:])
    assert not torch.equal(independent(history)[..., 0], independent(changed)[..., 0])
    assert not torch.allclose(joint(history)[..., 1:], joint(changed)[..., 1:])


def test_segment_parallel_decoding_matches_one_segment_at_a_time():
    """SegRNN's parallel decoding: each future segment is one recurrent step from the
    encoder's state, so running them one by one gives the same forecast."""
    model = make(
        "segment", horizon=10, cell="lstm", future_covariates=1
    )  # 3 segments, the last one cut
    history, _, future = inputs(future=1)
    future = torch.randn(5, 22, 1)
    rows = model._rows(history - history[:, -1:])
    ahead = model._covariates(future)
    segments = model.embed(model._inputs(rows, None, ahead).reshape(15, 3, -1))
    _, state = model.encoder(segments)
    padded = torch.cat([ahead[:, 12:], ahead[:, -1:].expand(-1, 2, -1)], 1).reshape(15, 3, -1)
    outputs = []
    for k in range(3):
        query = model.position[k] + model.channel.repeat(5, 1) + model.future_embed(padded[:, k])
        output, _ = model.encoder(query.unsqueeze(1), state)
        outputs.append(model.head(output[:, 0]))
    expected = torch.cat(outputs, 1)[:, :10].reshape(5, 3, 10).transpose(1, 2) + history[:, -1:]
    torch.testing.assert_close(model(history, None, future), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_teacher_forcing_with_its_own_forecasts_equals_free_running(cell):
    """The one-shot (teacher-forced) decoder and the step-by-step one are the same
    recurrence: fed its own free-running forecasts, the fused call reproduces them."""
    model = make("autoregressive", cell=cell, num_layers=2, future_covariates=2)
    history, _, future = inputs(future=2)
    free = model(history, None, future)
    torch.testing.assert_close(model(history, None, future, teacher=free), free, atol=1e-5, rtol=0)


def test_losses_match_hand_computed_values():
    actual = torch.tensor([[[1.0], [2.0]]])
    forecast = torch.tensor([[[2.0], [0.0]]])
    assert make("direct", targets=1, loss="mse").loss(forecast, actual).item() == pytest.approx(2.5)
    assert make("direct", targets=1, loss="mae").loss(forecast, actual).item() == pytest.approx(1.5)
    quantile = make("direct", targets=1, quantiles="0.1,0.9")
    levels = torch.tensor([[[[2.0, 2.0]], [[0.0, 0.0]]]])
    # errors y - f: -1 (over-forecast) and +2 (under): pinball 0.9*1, 0.1*1, 0.1*2, 0.9*2 over
    # levels 0.1, 0.9
    assert quantile.loss(levels, actual).item() == pytest.approx((0.9 + 0.1 + 0.2 + 1.8) / 4)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match=r"segment_length \(5\) must divide lookback \(12\)"):
        make("segment", segment_length=5)
    with pytest.raises(ValueError, match="quantiles must be increasing levels in"):
        make("direct", quantiles="0.9,0.1")


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_learns_a_noisy_seasonal_series_better_than_repeating_the_last_value(architecture):
    torch.manual_seed(0)
    time = torch.arange(600, dtype=torch.float32)
    series = torch.sin(2 * torch.pi * time / 12) + 0.1 * torch.randn(600)
    starts = torch.arange(0, 600 - 18)
    windows = series[starts[:, None] + torch.arange(18)].unsqueeze(-1)
    history, actual = windows[:, :12], windows[:, 12:]
    model = make(architecture, targets=1).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(150):
        rows = torch.randint(0, len(starts), (64,))
        loss = model.loss(model(history[rows], teacher=actual[rows]), actual[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        error = (model(history) - actual).square().mean().item()
    naive_error = (history[:, -1:] - actual).square().mean().item()
    assert error < 0.25 * naive_error


def test_quantile_levels_never_cross():
    model = make("direct", quantiles="0.1,0.5,0.9")
    with torch.no_grad():  # scramble the head so that the raw levels would cross
        model.head.weight.normal_(0, 3)
    forecast = model(inputs()[0] * 5)
    assert (forecast.diff(dim=-1) >= 0).all()
