"""Training settings: one frozen dataclass, saved to and read from the manifest as JSON."""

from __future__ import annotations

import dataclasses
from typing import Any

from forecast_cli.errors import UsageError

LOSSES = ("auto", "mae", "mse", "huber", "ape")
WINDOW_NORMS = ("none", "last", "season", "snaive")
TRANSFORMS = ("auto", "log", "none")
SCALINGS = ("auto", "std", "mean")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting that shapes a trained model; the CLI flags carry the same names.

    `lookback`, `season` and `batch_size` are resolved from the data before training, so a saved
    config never holds `None` for them.
    """

    horizon: int
    lookback: int | None = None
    season: int | None = None
    epochs: int = 60
    batch_size: int | None = None
    units: int = 64
    layers: int = 1
    dropout: float = 0.0
    learning_rate: float = 3e-3
    patience: int = 4
    seed: int = 42
    val_windows: int = 1
    max_windows: int = 100
    loss: str = "auto"
    window_norm: str = "season"
    transform: str = "auto"
    refit: bool = True
    scaling: str = "auto"
    ensemble: int = 1
    fill: str = "interpolate"

    def __post_init__(self) -> None:
        positive = {
            "horizon": self.horizon,
            "epochs": self.epochs,
            "units": self.units,
            "layers": self.layers,
            "patience": self.patience,
            "val_windows": self.val_windows,
            "max_windows": self.max_windows,
            "ensemble": self.ensemble,
        }
        if self.lookback is not None:
            positive["lookback"] = self.lookback
        if self.season is not None:
            positive["season"] = self.season
        if self.batch_size is not None:
            positive["batch_size"] = self.batch_size
        for name, value in positive.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                flag = "--" + name.replace("_", "-")
                raise UsageError(
                    f"{flag} must be a whole number of at least 1. Received: {name}={value!r}."
                )
        if not 0.0 <= self.dropout < 1.0:
            raise UsageError(
                f"--dropout must be in [0, 1). Received: dropout={self.dropout!r}."
            )
        if not self.learning_rate > 0.0:
            raise UsageError(
                f"--learning-rate must be above 0. Received: learning_rate={self.learning_rate!r}."
            )
        if self.seed < 0:
            raise UsageError(f"--seed must be 0 or more. Received: seed={self.seed!r}.")
        choices = {"loss": LOSSES, "window_norm": WINDOW_NORMS, "transform": TRANSFORMS, "scaling": SCALINGS}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} must be one of {', '.join(allowed)}. Received: {name}={value!r}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Rebuild a config from a manifest; unknown keys are refused so typos cannot hide."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(unknown)}")
        return cls(**values)


def default_lookback(horizon: int, season: int) -> int:
    """The lookback used when `--lookback` is not given: two seasons, or the horizon if longer.

    Chosen on the tourism and M4 benchmarks (bench/RESULTS.md): longer windows fitted the
    validation part no better and cost training time.

    Args:
        horizon: steps to forecast.
        season: steps in one seasonal cycle (1 when there is none).

    Returns:
        The number of past steps the network reads.

    Example:
        >>> default_lookback(24, 12), default_lookback(8, 4), default_lookback(13, 1)
        (24, 8, 13)
    """
    return max(horizon, 2 * season, 4)


def default_batch_size(n_windows: int) -> int:
    """The batch size used when `--batch-size` is not given: about 16 steps per epoch, 16 to 256.

    Example:
        >>> default_batch_size(100), default_batch_size(100_000)
        (16, 256)
    """
    return int(min(256, max(16, n_windows // 16)))
