"""config.py: validation of settings and the JSON round trip."""

from __future__ import annotations

import pytest

from forecast_cli.config import TrainConfig, default_batch_size, default_lookback
from forecast_cli.errors import UsageError


def test_round_trip():
    config = TrainConfig(horizon=12, lookback=24, season=12, batch_size=32)
    assert TrainConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "--horizon must be a whole number of at least 1. Received: horizon=0"),
        ({"horizon": -3}, "horizon=-3"),
        ({"horizon": 4, "lookback": 0}, "--lookback must be"),
        ({"horizon": 4, "dropout": 1.0}, "--dropout must be in"),
        ({"horizon": 4, "loss": "l1"}, "--loss must be one of auto, mae, mse, huber, ape"),
        ({"horizon": 4, "learning_rate": 0.0}, "--learning-rate must be above 0"),
    ],
)
def test_bad_values_are_refused(kwargs, message):
    with pytest.raises(UsageError, match=message):
        TrainConfig(**kwargs)


def test_unknown_keys_are_refused():
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        TrainConfig.from_dict({"horizon": 3, "colour": "red"})


def test_defaults():
    assert default_lookback(24, 12) == 24
    assert default_lookback(8, 4) == 8
    assert default_lookback(13, 1) == 13
    assert default_lookback(1, 1) == 4
    assert default_batch_size(100) == 16 and default_batch_size(10**6) == 256
