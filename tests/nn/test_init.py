"""Gate-bias initialisations, on rnnkit layers and torch.nn layers alike."""

import math

import pytest
import torch

import rnnkit
from rnnkit.nn.init import chrono_init_, forget_bias_


def test_chrono_lstm_matches_on_rnnkit_and_torch_and_touches_only_input_and_forget():
    ours = rnnkit.LSTM(3, 8, num_layers=2)
    theirs = torch.nn.LSTM(3, 8, num_layers=2, batch_first=True)
    theirs.load_state_dict(ours.state_dict())
    before = {k: v.clone() for k, v in ours.state_dict().items()}
    chrono_init_(ours, 100, torch.Generator().manual_seed(0))
    chrono_init_(theirs, 100, torch.Generator().manual_seed(0))
    for name, value in ours.state_dict().items():
        assert torch.equal(value, theirs.state_dict()[name]), name
    bias_ih, bias_hh = ours.bias_ih_l1, ours.bias_hh_l1
    forget = bias_ih[8:16]
    assert forget.min() >= 0 and forget.max() <= math.log(99) + 1e-6
    assert torch.equal(bias_ih[:8], -forget) and bias_hh[:16].eq(0).all()
    assert torch.equal(bias_ih[16:], before["bias_ih_l1"][16:]) and torch.equal(
        bias_hh[16:], before["bias_hh_l1"][16:]
    )


def test_chrono_gru_sets_the_update_gate():
    layer = rnnkit.GRU(3, 8)
    reset = layer.bias_ih_l0[:8].clone()
    chrono_init_(layer, 50, torch.Generator().manual_seed(0))
    assert layer.bias_ih_l0[8:16].min() >= 0 and layer.bias_hh_l0[8:16].eq(0).all()
    assert torch.equal(layer.bias_ih_l0[:8], reset)


def test_forget_bias_and_errors():
    layer = forget_bias_(rnnkit.LSTM(3, 4), 1.0)
    assert (layer.bias_ih_l0[4:8] + layer.bias_hh_l0[4:8]).eq(1).all()
    with pytest.raises(ValueError) as error:
        chrono_init_(rnnkit.RNN(3, 4), 10)
    assert str(error.value) == "gate initialisation needs an LSTM or GRU layer; got RNN"
    with pytest.raises(ValueError) as error:
        forget_bias_(rnnkit.GRU(3, 4))
    assert str(error.value) == "forget_bias_ needs an LSTM layer"
