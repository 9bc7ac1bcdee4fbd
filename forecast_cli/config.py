"""Training settings: one frozen dataclass, the defaults that are best practice, and how they resolve from the data."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
import typing
from pathlib import Path
from typing import Any

import numpy as np

from forecast_cli.errors import DataError, UsageError
from forecast_cli.output import counted

LOSSES = ("auto", "mae", "mse", "huber", "ape", "pinball")
WINDOW_NORMS = ("none", "last", "season", "snaive")
TRANSFORMS = ("auto", "log", "none")
SCALINGS = ("auto", "std", "mean")
LR_SCHEDULES = ("none", "plateau")
REFIT_STARTS = ("new", "validated")
BASELINES = ("ets+theta", "ets", "snaive")  # the forecast blended with the LSTM (forecast_cli.baselines)
FILLS = ("interpolate", "ffill", "zero", "none")  # missing values and timestamps (`data.load_series`)
AGGREGATES = ("sum", "mean")  # how `--aggregate` makes a period's value of its rows (`data.load_series`)


def omitted(f: dataclasses.Field, value: Any) -> bool:
    """Whether a dataclass field is left out of a manifest at `value`: its metadata names an `omit`
    value (for a setting, the behaviour before it existed) and `value` equals it."""
    omit = f.metadata.get("omit", dataclasses.MISSING)
    return omit is not dataclasses.MISSING and value == omit


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting that shapes a trained model; the CLI flags carry the same names.

    `horizon` (when not given), `lookback`, `season` and `batch_size` are resolved from the data
    before training, so a saved config never holds `None` for them.
    """

    horizon: int | None = None  # None: from the data's frequency (`with_horizon`)
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
    val_windows: int | None = None
    max_windows: int | None = None
    loss: str = "auto"
    window_norm: str = "season"
    transform: str = "auto"
    refit: bool = True
    # The refit's starting point: the validated network trained on for a quarter of the best
    # epochs, or a new network trained for all of them (`refit_epochs`).
    refit_start: str = "validated"
    # The refit ends on a moving average of its weights, updated after every batch with this
    # momentum (0.9: about the last ten batches), rather than on the last batch's weights, which
    # jitter with a constant learning rate; 0: the last batch's, as before it existed.
    refit_average: float = 0.9
    scaling: str = "auto"
    ensemble: int = 1
    fill: str = "interpolate"
    # Numbers written 1.234,5 in the CSV; left out of the manifest when off, as before it existed.
    decimal_comma: bool = dataclasses.field(default=False, metadata={"omit": False})
    # Numbers written 1,234.5 (commas between thousands); left out of the manifest when off.
    thousands_comma: bool = dataclasses.field(default=False, metadata={"omit": False})
    # The CSV's text encoding (Python's name for it, `parse_encoding`); left out when UTF-8.
    encoding: str = dataclasses.field(default="utf-8", metadata={"omit": "utf-8"})
    quantiles: tuple[float, ...] = ()  # empty: point forecasts; else sorted, 0.5 among them
    past_covariates: tuple[str, ...] | None = None  # None: every other numeric column (resolved)
    future_covariates: tuple[str, ...] = ()  # known ahead: predict's input must give the horizon's
    calendar: bool = False  # add calendar features of the timestamps as future covariates
    lr_schedule: str = "none"  # or "plateau": halve the learning rate when the loss stalls
    blend: float | None = None  # the LSTM's weight beside the baseline; None: chosen on validation
    baseline: str = "ets+theta"  # what the rest of the blend goes to: one of BASELINES
    # Candidate seasons (`--season 24,168`, or a day and a week from hourly dates): the network
    # takes the shortest as `season`; the statistical partner (`partner_season`) is chosen among
    # those the data carries, on the validation windows.
    seasons: tuple[int, ...] = ()
    partner_season: int | None = None  # the baseline's and the guard's season; None: `season`
    # With `--season` naming the one season of data whose time column carries none (integer
    # steps): the longest multiple of it the partner may take instead, where the validation
    # histories repeat at one (`timegrid.longer_season`: a week on top of a day of hours); 0: none.
    longer_season_limit: int = 0
    # Steps of the window each step of the LSTM reads (1: one at a time); None: `default_patch`,
    # from the training windows. Resolved before training, like the batch size.
    patch: int | None = None
    # The fewest values a series needs to be forecast, where that is fewer than the lookback:
    # the default lookback is never cut below the horizon (`fitting_lookback`), so a series
    # shorter than it, down to the shortest series of the training data, is forecast padded by
    # its first season (`windows.padded`). None: the lookback. Resolved from the data; left out
    # of the manifest when None, as before it existed.
    min_history: int | None = dataclasses.field(default=None, metadata={"omit": None})
    # Rows made one per period of --freq first: "sum" (events, such as transactions) or "mean"
    # (readings at odd times); later files are read so. Left out of the manifest when None.
    aggregate: str | None = dataclasses.field(default=None, metadata={"omit": None})

    @property
    def least_history(self) -> int:
        """The fewest values a series needs to be forecast: `min_history`, else the lookback."""
        return self.min_history or self.lookback

    @property
    def baseline_season(self) -> int | None:
        """The season of the statistical forecasts (ETS, seasonal naive): the partner's if one was
        chosen, else the network's."""
        return self.partner_season or self.season

    def __post_init__(self) -> None:
        positive = {
            "epochs": self.epochs,
            "units": self.units,
            "layers": self.layers,
            "patience": self.patience,
            "ensemble": self.ensemble,
        }
        for name in ("val_windows", "max_windows"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        if self.seasons:
            positive["season"] = min(self.seasons)  # every candidate must be a season; the smallest shows a bad one
        if self.horizon is not None:
            positive["horizon"] = self.horizon
        if self.lookback is not None:
            positive["lookback"] = self.lookback
        if self.season is not None:
            positive["season"] = self.season
        if self.partner_season is not None:
            positive["partner_season"] = self.partner_season
        if self.batch_size is not None:
            positive["batch_size"] = self.batch_size
        if self.patch is not None:
            positive["patch"] = self.patch
        if self.min_history is not None:
            positive["min_history"] = self.min_history
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
        if not (isinstance(self.refit_average, float) and 0.0 <= self.refit_average < 1.0):
            raise UsageError(
                "--refit-average must be a number from 0 (off) up to, not including, 1. "
                f"Received: refit_average={self.refit_average!r}."
            )
        if not self.learning_rate > 0.0:
            raise UsageError(
                f"--learning-rate must be above 0. Received: learning_rate={self.learning_rate!r}."
            )
        if self.seed < 0:
            raise UsageError(f"--seed must be 0 or more. Received: seed={self.seed!r}.")
        choices = {"loss": LOSSES, "window_norm": WINDOW_NORMS, "transform": TRANSFORMS, "scaling": SCALINGS,
                   "lr_schedule": LR_SCHEDULES, "baseline": BASELINES, "refit_start": REFIT_STARTS, "fill": FILLS}
        for name, allowed in choices.items():
            value = getattr(self, name)
            if value not in allowed:
                flag = "--" + name.replace("_", "-")
                raise UsageError(f"{flag} must be one of {', '.join(allowed)}. Received: {name}={value!r}.")
        if self.aggregate is not None and self.aggregate not in AGGREGATES:
            raise UsageError(f"--aggregate must be one of {', '.join(AGGREGATES)}. Received: {self.aggregate!r}.")

        if self.blend is not None and not (isinstance(self.blend, float) and 0.0 <= self.blend <= 1.0):
            raise UsageError(
                f"--blend must be auto or a number from 0 to 1 (the LSTM's weight). Received: blend={self.blend!r}."
            )
        overlap = sorted(set(self.past_covariates or ()) & set(self.future_covariates))
        if overlap:
            raise UsageError(
                f"column(s) {', '.join(overlap)} cannot be both past and future covariates. Name each once."
            )
        if self.quantiles:
            qs = self.quantiles
            if (not all(isinstance(q, float) and 0.0 < q < 1.0 for q in qs) or list(qs) != sorted(set(qs))
                    or 0.5 not in qs):
                raise UsageError(
                    "--quantiles must be distinct numbers between 0 and 1 in increasing order, 0.5 among "
                    f"them. Received: quantiles={list(qs)!r}."
                )

    @property
    def covariates(self) -> tuple[str, ...]:
        """Every covariate column, past ones first, in the order of the network's features."""
        return (*(self.past_covariates or ()), *self.future_covariates)

    @property
    def input_steps(self) -> int:
        """Time steps the network reads: the lookback, then the horizon when future covariates
        are known for it."""
        return self.lookback + (self.horizon if self.future_covariates else 0)

    @property
    def n_features(self) -> int:
        """Values per step: the target, each covariate, and with future covariates a 0/1 flag
        marking the horizon's steps."""
        return 1 + len(self.covariates) + (1 if self.future_covariates else 0)

    @property
    def n_outputs(self) -> int:
        """Values the network writes: horizon, times the quantile levels if any."""
        return self.horizon * max(1, len(self.quantiles))

    def to_dict(self) -> dict[str, Any]:
        """The settings as the manifest writes them: a field at its `omit` value is left out."""
        out = dataclasses.asdict(self)
        for f in dataclasses.fields(self):
            if omitted(f, out[f.name]):
                del out[f.name]
        return out


def network_bytes(config: TrainConfig) -> int:
    """Memory training holds for the LSTM layers alone: their float32 weights (four gates of
    `units`, each reading `units` and the layer's input), the gradients and Adam's two moments,
    four copies in all. The patches' map and the output layer (the horizon may be known only
    from the data) are small beside them; the windows and activations come on top.

    Example:
        >>> network_bytes(TrainConfig(units=64)) // 1024  # kilobytes
        264
    """
    units, layers = config.units, config.layers
    first_input = units if (config.patch or 1) > 1 else config.n_features
    weights = 4 * units * (units + first_input + 1) + (layers - 1) * 4 * units * (2 * units + 1)
    return 4 * 4 * weights


def check_network_size(config: TrainConfig) -> None:
    """Refuse a network whose weights alone would not fit in this machine's memory (a mistyped
    `--units 64000000`): TensorFlow would fail with a traceback after the data was read."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # a system that does not say: no check
        return
    need = network_bytes(config)
    if need > memory:
        raise UsageError(
            f"--units {config.units} with --layers {config.layers} makes a network whose weights and optimizer "
            f"state alone take {need / 2**30:,.0f} GiB, more than this machine's {memory / 2**30:,.0f} GiB of "
            "memory. Forecasting LSTMs have tens to hundreds of units (the default is 64)."
        )


def read_settings(path: str | Path, options: dict[str, Any]) -> dict[str, Any]:
    r"""Training settings from a TOML file (`--config`), each key a flag's name (`window-norm` or
    `window_norm`) and each value of that flag's type; lists (quantiles, covariate columns) and
    numbers for text options (blend) are given as the flag would take them.

    Args:
        path: the TOML file.
        options: the flags a file may set, by parameter name, with their types.

    Returns:
        The settings by parameter name, as the command line would have given them.

    Example:
        >>> import pathlib, tempfile
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "train.toml"
        >>> _ = path.write_text("lookback = 48\nquantiles = [0.1, 0.9]\n")
        >>> read_settings(path, {"lookback": int | None, "quantiles": str | None})
        {'lookback': 48, 'quantiles': '0.1,0.9'}
    """
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--config {p}: no such file. Give the path of a TOML file of training settings.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--config {p} cannot be read ({exc}). Give a UTF-8 TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--config {p} is not valid TOML ({exc}). Write one setting a line, e.g. lookback = 48.") from None
    settings = {}
    for key, value in doc.items():
        name = key.replace("-", "_")
        if name not in options:
            flags = sorted(n.replace("_", "-") for n in options)
            close = difflib.get_close_matches(key.replace("_", "-").lower(), flags, n=1)
            if isinstance(value, dict):
                fix = f" Settings are top-level lines (lookback = 48), not a [{key}] table: drop the table's header."
            elif name == "as_of":  # which data a run reads, not how a model is trained
                fix = " The data's cut-off changes from run to run: give it on the command line, --as-of."
            elif close:
                fix = f" Did you mean {close[0]!r}?"
            else:
                fix = f" Expected flag names such as {', '.join(flags[:8])}, ... (see forecast train --help)."
            raise UsageError(f"--config {p}: {key!r} is not a training setting.{fix}")
        settings[name] = _setting(value, options[name], f"--config {p}: {key}")
    return settings


def _setting(value: Any, hint: Any, where: str) -> Any:
    """One TOML value as the flag of type `hint` takes it, or a UsageError naming it."""
    kinds = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
    kind = kinds[0]
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if kind is str:
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
            return ",".join(str(v) for v in value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    expected = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}.get(kind, str(kind))
    raise UsageError(f"{where} should be {expected}. Received: {value!r}.")


def parse_quantiles(text: str | None) -> tuple[float, ...]:
    """The `--quantiles` option: comma-separated levels, sorted, with the median 0.5 added (the
    point forecast `yhat` is the median).

    Example:
        >>> parse_quantiles("0.9,0.1")
        (0.1, 0.5, 0.9)
    """
    if not text:
        return ()
    try:
        levels = {float(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise UsageError(
            f"--quantiles must be numbers between 0 and 1 separated by commas, e.g. 0.1,0.5,0.9. Received: {text!r}."
        ) from None
    bad = sorted(q for q in levels if not 0.0 < q < 1.0)
    if bad or not levels:
        raise UsageError(
            f"--quantiles must be between 0 and 1 (exclusive), e.g. 0.1,0.5,0.9. Received: {text!r}."
        )
    return tuple(sorted(levels | {0.5}))


def parse_columns(text: str | None, auto: bool = False) -> tuple[str, ...] | None:
    """A comma-separated list of column names; with `auto`, the words auto (None: detect) and
    none (no columns) too.

    Example:
        >>> parse_columns("price, promo"), parse_columns("auto", auto=True), parse_columns("none", auto=True)
        (('price', 'promo'), None, ())
    """
    if text is None or (auto and text.strip() == "auto"):
        return None if auto else ()
    if auto and text.strip() == "none":
        return ()
    return tuple(part.strip() for part in text.split(",") if part.strip())


def parse_season(text: str | int | None) -> tuple[int | None, tuple[int, ...]]:
    """The `--season` option: one season length (the model's), or several separated by commas
    (the candidates: the network takes the shortest, the statistical partner the one that
    validates best among those the data carries, see `partner_seasons`).
    Returns (season, seasons): (None, ()) when not given.

    Example:
        >>> parse_season("12"), parse_season("168,24"), parse_season(None)
        ((12, ()), (None, (24, 168)), (None, ()))
    """
    if text is None or str(text).strip() == "":
        return None, ()
    try:
        values = sorted({int(part) for part in str(text).split(",") if part.strip()})
    except ValueError:
        raise UsageError(
            f"--season must be a whole number of steps, or several separated by commas (e.g. 24,168). Received: {text!r}."
        ) from None
    if len(values) == 1:
        return values[0], ()
    return None, tuple(values)


def partner_seasons(seasons: tuple[int, ...], shortest: int, horizon: int) -> tuple[int, ...]:
    """The candidate seasons every series can carry (two cycles and a horizon of values), among
    which validation chooses the statistical partner's; the shortest always stays (the network's).

    Example:
        >>> partner_seasons((24, 168), 1000, 48), partner_seasons((24, 168), 300, 48), partner_seasons((12,), 20, 6)
        ((24, 168), (24,), (12,))
    """
    return tuple(s for s in seasons if s == min(seasons) or shortest >= 2 * s + horizon)


SEASON_LONGEST = 400  # the longest cycle looked for in the values or taken as one (a week of hours is 168)


def longer_season_limit(season: int, shortest: int, horizon: int) -> int:
    """The longest multiple of a named `season` the statistical partner may take instead: every
    series must hold two of it and a horizon (as `partner_seasons` asks of a candidate), at most
    `SEASON_LONGEST` steps; 0 when not even two seasons fit.

    Example:
        >>> longer_season_limit(24, 700, 48), longer_season_limit(48, 4000, 48), longer_season_limit(52, 80, 13)
        (312, 384, 0)
    """
    limit = min(SEASON_LONGEST, (shortest - horizon) // 2) // season * season
    return limit if limit >= 2 * season else 0


def parse_encoding(name: str) -> str:
    """The `--encoding` option: a text encoding Python knows, by its canonical name, so that the
    manifest records one spelling (UTF8, utf_8 and utf-8 are all utf-8).

    Example:
        >>> parse_encoding("UTF8"), parse_encoding("windows-1252"), parse_encoding("latin1")
        ('utf-8', 'cp1252', 'iso8859-1')
    """
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UsageError(
            f"--encoding {name!r} is not a text encoding Python knows. Give one such as utf-8, cp1252 (Excel's "
            "CSV on Windows in Western Europe and the Americas), latin-1, cp1250 or utf-16."
        ) from None


def parse_blend(text: str | None) -> float | None:
    """The `--blend` option: auto (None: chosen on the validation windows) or the LSTM's weight.

    Example:
        >>> parse_blend("auto"), parse_blend("0.7"), parse_blend("1")
        (None, 0.7, 1.0)
    """
    if text is None or text.strip() == "auto":
        return None
    try:
        return float(text)
    except ValueError:
        raise UsageError(
            f"--blend must be auto or a number from 0 to 1 (the LSTM's weight). Received: {text!r}."
        ) from None


def with_horizon(config: TrainConfig, default: tuple[int | None, str], source: str) -> tuple[TrainConfig, str]:
    """The config with its horizon: the data's default (`timegrid.data_horizon`: the horizon, or
    None, and what it is the default for) when none was given; and a note saying so ("" when
    it was given).

    Example:
        >>> with_horizon(TrainConfig(), (18, "frequency MS"), "air.csv")
        (TrainConfig(horizon=18, ...), 'Horizon 18 steps, the default for frequency MS (--horizon to choose)')
    """
    if config.horizon is not None:
        return config, ""
    horizon, what = default
    if horizon is None:
        raise UsageError(f"--horizon is required for {source}: its time column holds {what}, so there is no "
                         "default horizon. Give --horizon N (or horizon = N in the --config file).")
    note = f"Horizon {horizon} steps, the default for {what} (--horizon to choose)"
    return dataclasses.replace(config, horizon=horizon), note


LOOKBACK_CAP = 336  # most steps read for the horizon's sake (two weeks of hours)
FEWEST_WINDOWS = 7  # training windows below which the defaults read the least lookback (see data_lookback)
THIRD_SEASON_WINDOWS = 10_000  # training windows from which a third season is read (see default_lookback)
THIRD_SEASON_LONGEST = 72  # steps three seasons may span, nine patches of 8 (a day of hours reads a week instead)
HOURS_A_DAY, HOURS_A_WEEK = 24, 168  # where many windows of hours are read, a week instead of three days


def default_lookback(horizon: int, season: int, windows: int = 0) -> int:
    """The lookback used when `--lookback` is not given: two seasons, or the horizon if longer,
    but no more than 336 steps for the horizon's sake (two seasons always fit). Three seasons
    where the data offer `THIRD_SEASON_WINDOWS` training windows or more (`windows`, counted
    at two seasons), two seasons already make a window read in patches (`default_patch`: 24
    steps or more) and three span no more than `THIRD_SEASON_LONGEST` steps: seasons of 12 to
    24 steps, three years of monthly data and three days of hourly data. Where that third season
    would be a day of hours (a season of 24 steps), the window spans a week instead (168 steps,
    21 patches of 8), the weekly cycle that hourly data carry on top of the day.

    The third season: two years of months are read in six patches of 4, the fewest a window is
    read in; three years in nine. On hundreds of monthly series three years forecast better:
    made sets in M3's and M4's shapes (41,000 and 180,000 windows) 1.4% and 1.1% (three seeds;
    lower sMAPE on every seed), tourism monthly's holdout level (1.800 -> 1.796) and its test
    split MAPE 19.49 -> 19.36 (lower on every seed). Hourly data alike: two days are six
    patches of 8, three days nine, and four sets of many hourly series forecast better with
    three (three seeds each): made sets of 40 and 414 series 1.1% and 0.7%, ETTh1's columns cut
    into 126 series and its seven columns a day ahead 1.4% and 1.0%. A week forecast better
    still where the series have one: on the made set of 414 hourly series with quieter weekends
    the network alone was 16% better reading a week than three days and the shipped forecast
    1.6% (every seed of three), ETTh1's seven columns a day ahead 1.9% better, its 126 pieces
    level (0.3% worse). The half-hourly Taylor series (one series, about 4,000 windows) stays at
    two days: reading its week, the network alone was 41% better a day ahead, but the blend it
    then took a larger part of was 12% worse than the weekly ETS+Theta it had followed.

    Not on one short series: with 85 windows instead of 97 the network alone fitted the
    validation year of the 144 air passengers months three to four times worse on two seeds of
    three (1.80 and 1.71 against 0.49 and 0.42), and the other monthly samples no better. Any
    count between those sizes separates them; 10,000 is hundreds of monthly series, or a year
    and more of hourly ones. Not for windows read step by step (quarterly data's two years of
    8 steps: level on tourism quarterly's holdout, and on the test splits 0.7% and 1.9% worse on
    the two quarterly sets), nor past nine patches of 8: on the Taylor half-hourly series three
    days (144 steps, 18 patches) were 4% worse a day ahead (bench/RESULTS.md).

    Chosen on the tourism and M4 benchmarks (bench/RESULTS.md): longer windows fitted the
    validation part no better and cost training time. The cap: an LSTM's time grows with the
    steps it reads, and on ETTh1 at horizon 720 reading 336 hours instead of 720 fitted the
    validation rows within 1% (MAE 2.80 against 2.78) in half the time: 331 s, against 543, 695
    and 969 s in three runs, the last past the 15 minutes a training run may take.

    Args:
        horizon: steps to forecast.
        season: steps in one seasonal cycle (1 when there is none).
        windows: the training windows the data offer at two seasons' lookback (0: unknown, as
            for one short series).

    Returns:
        The number of past steps the network reads.

    Example:
        >>> default_lookback(24, 12), default_lookback(8, 4), default_lookback(13, 1), default_lookback(720, 24)
        (24, 8, 13, 336)
        >>> default_lookback(24, 12, 87_108), default_lookback(48, 24, 80_000), default_lookback(48, 48, 80_000)
        (36, 168, 96)
        >>> default_lookback(6, 11, 10_000), default_lookback(6, 16, 10_000), default_lookback(48, 24, 9_999)
        (22, 48, 48)
    """
    third = windows >= THIRD_SEASON_WINDOWS and default_patch(2 * season) > 1 and 3 * season <= THIRD_SEASON_LONGEST
    span = (HOURS_A_WEEK if season == HOURS_A_DAY else 3 * season) if third else 2 * season
    return max(min(horizon, LOOKBACK_CAP), span, 4)


def fitting_lookback(horizon: int, season: int, shortest: int, windows: int = 0, pad: bool = True) -> int:
    """The lookback used when `--lookback` is not given: `default_lookback`, but no more than the
    shortest series holds, so that every series can be forecast from its own values; and, with
    `pad`, never less than the horizon, series shorter than that forecast padded by their first
    season (`windows.padded`; `TrainConfig.min_history`).

    Why the floor: one series of 3 years among tourism's 518 yearly series (median 19) held the
    network of all of them to 3 years for a 4-year horizon; reading 4, the 29 series shorter than
    that padded, was better on three seeds of three on the holdout (MASE 1.1%, MAPE 1.4%). Not
    further: padding up to the whole default lookback lost 4.6% on M4 weekly (two years instead
    of the 67 weeks of its shortest series), and reading more than the horizon of yearly data
    did not help M3 yearly, whose lookback is not cut (bench/RESULTS.md). Without `pad` (a model
    with covariates, whose columns have no values before a series starts) the shortest series
    bounds the lookback alone.

    Example:
        >>> fitting_lookback(12, 12, 144), fitting_lookback(12, 12, 20), fitting_lookback(12, 12, 144, 20_000)
        (24, 20, 36)
        >>> fitting_lookback(4, 1, 3), fitting_lookback(4, 1, 3, pad=False), fitting_lookback(13, 52, 67)
        (4, 3, 67)
    """
    return max(2, min(default_lookback(horizon, season, windows), max(shortest, horizon) if pad else shortest))


def offered_windows(lengths: np.ndarray, lookback: int, horizon: int) -> np.ndarray:
    """Training windows each series of these lengths offers: one per end with `lookback` values
    before it and `horizon` after."""
    return np.maximum(np.asarray(lengths) - lookback - horizon + 1, 0)


def data_lookback(horizon: int, season: int, lengths: np.ndarray, val_windows: int = 1, pad: bool = True) -> int:
    """`fitting_lookback` (with `pad`) for series of these lengths, the training windows they offer counted
    at two seasons' lookback, and no longer than the longest series holds with a training horizon
    and `val_windows` validation horizons after it (`--val-windows`; 1 unless given, as the
    default takes more only from series long enough for any lookback), so that the defaults
    train wherever a lookback of a season or of the horizon would:

    - the third season only where it fits: 20,000 series of four years of months offer 20,000
      windows at two years, but three years would leave no room to train for a year ahead, so
      they read two;
    - where two seasons do not fit either, a season or the horizon, whichever is shorter
      (`least_lookback`), if that fits: 100 weeks of data forecast 13 weeks ahead read 13
      weeks (two years, 104, are longer than the data), 500 minutes forecast 30 ahead read 30
      (a day is 1,440), where the defaults asked for more history. The least lookback leaves
      the most training windows (62 of those 100 weeks; reading all that the series leaves, 74
      weeks, would leave one), and the partners and seasonal naive, which the forecast is chosen
      against on validation, carry the longer cycle;
    - the least lookback too where two seasons fit but leave fewer than `FEWEST_WINDOWS` training
      windows in all (before the validation horizons): one series of 73 months forecast 24
      ahead trains on 2 windows at two years and on 14 at one. On 450 single series cut so that
      two seasons left 1, 3 or 6 training windows (tourism's monthly and quarterly series, M4
      weekly's, ETTh1's 40-day chunks), the least lookback forecast the values held out 3.7%
      better (geometric mean of MASE; M4 weekly 10%, tourism 2% and 3%, ETTh1 level; few series
      weigh most, the median is level; bench/RESULTS.md).

    Below that the network would read less than it forecasts and less than a season, and
    `resolve_settings` says the data is too short for the horizon.

    Example:
        >>> data_lookback(12, 12, np.array([144])), data_lookback(12, 12, np.full(100, 144))
        (24, 36)
        >>> data_lookback(12, 12, np.full(20_000, 48)), data_lookback(13, 52, np.array([100]))
        (24, 13)
        >>> data_lookback(13, 52, np.array([60])), data_lookback(30, 1440, np.array([500]))
        (13, 30)
        >>> data_lookback(24, 12, np.array([73])), data_lookback(24, 12, np.array([78])), data_lookback(24, 12, np.full(7, 73))
        (12, 24, 24)
    """
    shortest, longest = int(lengths.min()), int(lengths.max())
    two_seasons = fitting_lookback(horizon, season, shortest, pad=pad)
    windows = int(offered_windows(lengths, two_seasons, horizon).sum())
    room = longest - horizon * (1 + val_windows)  # the longest series' values before its training and validation
    least = least_lookback(season, horizon)
    before_validation = np.asarray(lengths) - horizon * val_windows
    for lookback in (fitting_lookback(horizon, season, shortest, windows, pad), two_seasons):
        trained = int(offered_windows(before_validation, lookback, horizon).sum())
        if lookback <= room and (trained >= FEWEST_WINDOWS or lookback <= least):
            return lookback
    return least if least <= room else two_seasons


def lookback_cut(given: TrainConfig, resolved: TrainConfig, lengths: np.ndarray, ids: list[str]) -> str | None:
    """A warning for a default lookback the shortest series cut to less than half of what the
    defaults read (`default_lookback`), else None. The lookback is one for every series, and no
    longer than the shortest (unless that is shorter than the horizon: then the horizon, the
    shortest read padded), so that every series can be forecast: one new product of three months
    among years-long series makes the network read three months of every series. The warning
    names that series and the way out (the lookback given, the short series left out of the
    forecast until they grow).

    Example:
        >>> lengths, ids = np.array([60, 60, 3]), ["a", "b", "new"]
        >>> resolved = dataclasses.replace(TrainConfig(horizon=2), lookback=3, season=12)
        >>> print(lookback_cut(TrainConfig(horizon=2), resolved, lengths, ids))
        The default lookback, 24 steps, is cut to 3, the length of the shortest series ('new'), so that every series can be forecast: the network reads 3 steps of every series. To read 24, give --lookback 24 and forecast with --skip-short (series shorter than 24 are left out until they grow).
        >>> resolved = dataclasses.replace(TrainConfig(horizon=6), lookback=6, season=12, min_history=3)
        >>> print(lookback_cut(TrainConfig(horizon=6), resolved, lengths, ids))
        The default lookback, 24 steps, is cut to 6, the horizon, as the shortest series ('new') has 3 values, so that every series can be forecast: the network reads 6 steps of every series, shorter ones padded. To read 24, give --lookback 24 and forecast with --skip-short (series shorter than 24 are left out until they grow).
    """
    if given.lookback:
        return None
    wanted = default_lookback(resolved.horizon, resolved.season)
    shortest = int(lengths.min())
    if not (resolved.lookback == shortest or resolved.min_history) or 2 * resolved.lookback >= wanted:
        return None
    short = [uid for uid, n in zip(ids, lengths) if n == shortest]
    named = repr(short[0]) + (f" and {len(short) - 1} more as short" if len(short) > 1 else "")
    cut = (f"{shortest}, the length of the shortest series ({named})" if resolved.lookback == shortest else
           f"{resolved.lookback}, the horizon, as the shortest series ({named}) {'has' if len(short) == 1 else 'have'} "
           f"{shortest} values")
    return (f"The default lookback, {wanted} steps, is cut to {cut}, so that every series can be forecast: the "
            f"network reads {resolved.lookback} steps of every series{', shorter ones padded' if resolved.min_history else ''}. "
            f"To read {wanted}, give --lookback {wanted} and "
            f"forecast with --skip-short (series shorter than {wanted} are left out until they grow).")


def padding_words(season: int) -> str:
    """How a series shorter than the lookback is read (`windows.padded`), for messages.

    Example:
        >>> padding_words(1)
        'the first value repeated before the series began'
    """
    if season <= 1:
        return "the first value repeated before the series began"
    return (f"the first season ({season} steps) repeated before the series began, or the first value where a "
            "series holds less than a season")


def padded_note(lengths: np.ndarray, ids: list[str], lookback: int, season: int = 1) -> str | None:
    """A note for the series shorter than the lookback, which are read padded (`windows.padded`;
    `TrainConfig.min_history`), or None when there are none.

    Example:
        >>> padded_note(np.array([20, 3, 2]), ["a", "new", "newer"], 4)
        "2 series shorter than the lookback of 4 (e.g. 'new', 3 values) are read with the first value repeated before the series began."
        >>> padded_note(np.array([20, 6]), ["a", "new"], 8, 4)
        "1 series shorter than the lookback of 8 ('new', 6 values) is read with the first season (4 steps) repeated before the series began, or the first value where a series holds less than a season."
        >>> padded_note(np.array([20, 1]), ["a", "new"], 4)
        "1 series shorter than the lookback of 4 ('new', 1 value) is read with the first value repeated before the series began."
    """
    short = np.flatnonzero(np.asarray(lengths) < lookback)
    if not len(short):
        return None
    return padded_text(len(short), (ids[short[0]], int(lengths[short[0]])), lookback, season)


def padded_text(count: int, example: tuple[str, int], lookback: int, season: int = 1) -> str:
    """`padded_note`'s words for `count` series read padded, `example` one of them (id, values):
    from the counts of a cluster's parts as from one file."""
    one = count == 1
    return (f"{count} series shorter than the lookback of {lookback} ({'' if one else 'e.g. '}{example[0]!r}, "
            f"{counted(example[1], 'value')}) {'is' if one else 'are'} read with {padding_words(season)}.")


INTERMITTENT_INTERVAL = 1.32  # Syntetos and Boylan's cut-off: a nonzero value every 1.32 steps or fewer on average
INTERMITTENT_SHARE = 0.1  # said when at least this share of the series is intermittent


def zero_shares(series: dict[str, np.ndarray]) -> np.ndarray:
    """Each series' share of zero values, NaN for a series that is not a count of anything
    (`intermittent_note`): a negative value, or only zeros.

    Example:
        >>> zero_shares({"a": np.array([0.0, 2.0, 0.0, 1.0]), "b": np.array([-1.0, 0.0]), "c": np.zeros(3)})
        array([0.5, nan, nan])
    """
    out = np.full(len(series), np.nan)
    lengths = np.fromiter((len(v) for v in series.values()), dtype=np.int64, count=len(series))
    some = np.flatnonzero(lengths > 0)
    if not len(some):
        return out
    # Counted over all the values at once, series by series (a loop cost 8 us a series: 2.4 s
    # for 300,000); reduceat's segments start where each series with values does.
    sizes = lengths[some]
    values = np.concatenate([v for v in series.values() if len(v)])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    negative = np.add.reduceat((~(values >= 0)).astype(np.int64), starts)  # NaN counts as not a count too
    zeros = np.add.reduceat((values == 0).astype(np.int64), starts)
    counts = (negative == 0) & (zeros < sizes)
    out[some[counts]] = zeros[counts] / sizes[counts]
    return out


def intermittent_note(ids: list[str], zeros: np.ndarray, given: TrainConfig | None = None) -> str | None:
    """What the default forecast means for intermittent series (counts with many zeros: demand
    for slow-moving items), when at least a tenth of the series are: their mean interval between
    nonzero values exceeds 1.32 steps (Syntetos and Boylan), from each series' share of zeros
    (`zero_shares`, NaN for a series that is not a count). The default aims at each step's
    typical value (the validation's MASE rewards the median), which for such series lies below
    their mean, so forecasts summed over the horizon fall short of the total to expect;
    `--transform none --loss mse` forecasts the mean. None otherwise, and for `train`'s `given`
    settings where they name what the forecast aims at (a loss, a transform or quantiles).

    Example:
        >>> series = {"slow": np.array([0.0, 0, 3, 0, 0, 1, 0, 2, 0, 0]), "fast": np.arange(1.0, 11.0)}
        >>> print(intermittent_note(list(series), zero_shares(series)))
        1 of 2 series are intermittent (a nonzero value less often than every 1.32 steps on average; e.g. 'slow', 70% zeros). ...
    """
    if given is not None and (given.loss != "auto" or given.transform != "auto" or given.quantiles):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        sparse = np.flatnonzero(1.0 / (1.0 - zeros) > INTERMITTENT_INTERVAL)  # NaN compares False
    if not len(sparse) or len(sparse) < INTERMITTENT_SHARE * len(ids):
        return None
    example = sparse[np.argmax(zeros[sparse])]
    return (f"{len(sparse)} of {len(ids)} series are intermittent (a nonzero value less often than every "
            f"{INTERMITTENT_INTERVAL} steps on average; e.g. {ids[example]!r}, {zeros[example]:.0%} zeros). The default "
            "forecast aims at each step's typical value (the median, which MASE rewards); for such series that lies "
            "below their mean, so summed over the horizon it falls short of the total to expect. For totals (stock, "
            "orders), train with --transform none --loss mse, which forecasts the mean.")


def least_lookback(season: int, horizon: int) -> int:
    """The shortest lookback the defaults read (`data_lookback`): a season or the horizon,
    whichever is shorter, and at least 4 steps (the least `default_lookback` reads).

    Example:
        >>> least_lookback(52, 13), least_lookback(12, 18), least_lookback(1, 6)
        (13, 12, 4)
    """
    return max(min(season, horizon), 4)


def rows_needed(lookback: int, season: int, horizon: int, lengths: np.ndarray, val_windows: int = 1) -> int:
    """The rows the longest series needs for `horizon` with the default lookback, given that the
    data (`lengths`) has too few for `lookback`: `least_lookback` and the training and validation
    horizons; with a shorter series beside it, that series' length may be the lookback (it caps
    the lookback, and does not grow with the longest).

    Example:
        >>> rows_needed(500, 1440, 1440, np.array([500])), rows_needed(3, 12, 30, np.array([3, 60]))
        (4320, 63)
    """
    least = least_lookback(season, horizon)
    if int(lengths.min()) < int(lengths.max()):
        least = min(lookback, least)
    return least + horizon * (1 + val_windows)


VALIDATION_TARGET = 64  # validation windows wanted in all when the data allow it
ALL_WINDOWS = 100_000  # up to this many in all, every training window is used
STEP_BUDGET = 5_000_000  # beyond that, window steps (windows x lookback) an epoch reads, about
WINDOW_BUDGET = 20_000  # beyond that, training windows kept in all at the least (with few, long series)
MANY_SERIES_WINDOWS = 200_000  # beyond 2,000 series (100 windows each), the windows in all stay at this
LONG_SERIES = 1_000  # values from which a series can spare several validation blocks
VALIDATION_SERIES = 10_000  # series that give validation windows, at most (chosen at random beyond)


def validation_series(ids: list[str], seed: int) -> frozenset[str] | None:
    """The series whose ends validate the network and choose the forecast: every series (None)
    up to 10,000, else 10,000 of them drawn at random with the run's seed. The choice is then
    measured on 10,000 windows or more, enough to tell the candidates apart (a mean error over
    10,000 windows has a standard error of about 1% of its spread), while early stopping, the
    validation's per-series ETS fits and the histories they need stop growing with the number of
    series: a run on a million series holds ten thousand histories, not a million. Every series
    still keeps its validation part out of training, so the cut-off is the same for all.

    Example:
        >>> validation_series(["a", "b"], 42) is None, len(validation_series([str(i) for i in range(20_000)], 42))
        (True, 10000)
    """
    if len(ids) <= VALIDATION_SERIES:
        return None
    chosen = np.random.default_rng(seed).choice(len(ids), VALIDATION_SERIES, replace=False)
    return frozenset(ids[i] for i in chosen)


def default_val_windows(n_series: int, longest: int, lookback: int, horizon: int) -> int:
    """Validation windows per series when `--val-windows` is not given: one per series, except
    for few long series (fewer than 64, the longest with 1,000 values or more), which give more
    blocks from their ends so that early stopping does not hang on a window or two: up to 64
    windows in all, at most a quarter of the longest series. Short series keep their values for
    training (on the 144 months of air passengers, three blocks made the forecasts worse).

    Example:
        >>> default_val_windows(300, 100, 24, 12), default_val_windows(1, 144, 24, 12), default_val_windows(1, 11520, 48, 24)
        (1, 1, 64)
    """
    if longest < LONG_SERIES:
        return 1
    wanted = -(-VALIDATION_TARGET // max(1, n_series))
    quarter = (longest // 4) // horizon
    room = (longest - lookback - horizon) // horizon
    return max(1, min(wanted, quarter, room))


def default_max_windows(windows: list[int], lookback: int) -> int:
    """Training windows kept per series (the most recent) when `--max-windows` is not given:
    every window when the data offers at most 100,000 in all; else each series' most recent, as
    many as make about 5 million window steps an epoch (windows x `lookback`) in all, between
    20,000 and 100,000 windows, and at least 100 a series; beyond 2,000 series fewer per series
    (at least one), so that there are about 200,000 in all: the network's cost (its windows held
    in memory, and each epoch's time) then stops growing with the number of series.

    Past 100,000 each series had kept 100 windows (with fewer than 200 series, 20,000 in all), so
    data just past the total trained on a fraction of what data just below it used: ETTh1 cut
    into 126 series of 40 days read all its 96,894 windows, but 20,000 of the 102,942 it offered
    with each series 48 hours longer; a few hundred such series kept each one's last four days.
    On the M4-weekly holdout (359 series, 334,664 windows offered), 207 windows a series (this
    budget at its lookback of 67) instead of 100 forecast 1.4% better over five seeds (better on
    four; the LSTM alone 3.2% better) in 1.6 times the training time. 279 a series (100,000
    windows) forecast 1% better on three seeds (better on two) but took up to 591 s, which the
    test split's longer windows would push past 10 minutes: hence a budget of steps, which is
    what an epoch costs (bench/RESULTS.md). Below 100,000 windows no budget applies: capped at
    4.8 million steps, ETTh1's seven columns at h 168 kept 4,082 of 11,017 windows each and
    forecast the holdout 23% worse (MASE 1.026 against 0.833), as a 4-million budget had at
    h 720. Using every window forecast the tourism-monthly holdout better than 100 per series
    (MAPE 26.47 against 26.73).

    Args:
        windows: the training windows each series offers.
        lookback: the steps each window reads.

    Example:
        >>> default_max_windows([238] * 366, 24), default_max_windows([2492] * 359, 67), default_max_windows([150_000], 48)
        (238, 207, 100000)
        >>> default_max_windows([150] * 10_000, 12), default_max_windows([150] * 1_000_000, 12)
        (20, 1)
    """
    if sum(windows) <= ALL_WINDOWS:
        return max(1, max(windows, default=1))
    n = max(1, len(windows))
    budget = max(WINDOW_BUDGET, min(ALL_WINDOWS, STEP_BUDGET // max(1, lookback)))
    return min(max(100, budget // n), max(1, MANY_SERIES_WINDOWS // n))


def refit_epochs(best_epoch: int, start: str) -> int:
    """Epochs of the refit on every window: the best epoch count for a new network; for the
    validated network, which has learnt all but the newest windows, a quarter of it (at least 1).

    Example:
        >>> refit_epochs(9, "new"), refit_epochs(9, "validated"), refit_epochs(1, "validated")
        (9, 3, 1)
    """
    return best_epoch if start == "new" else max(1, -(-best_epoch // 4))


def default_batch_size(n_windows: int) -> int:
    """The batch size used when `--batch-size` is not given: about 16 steps per epoch, 16 to 256.

    Example:
        >>> default_batch_size(100), default_batch_size(100_000)
        (16, 256)
    """
    return int(min(256, max(16, n_windows // 16)))


PATCHES = (8, 4)  # steps in a patch, longest first: a window is read in the longest it holds six of
MIN_PATCHES = 6  # patches a window must hold to be read in them: 48 steps for patches of 8, 24 for 4


def default_patch(input_steps: int) -> int:
    """Steps per patch when `--patch` is not given: the longest patch of 8 or 4 steps of which
    the window holds six, at any size of data: 8 for windows of 48 steps or more (hourly data's
    two days, weekly data's two years, any horizon of 48 or more), 4 for windows of 24 to 47
    (monthly data's two years), 1 (the LSTM reads the window step by step) for shorter ones.

    Read in patches (a dense map of each patch, then the LSTM over the patches), the LSTM runs
    over a sixth or fewer of the steps, and an LSTM's time grows with the steps it reads (about
    4 microseconds a window step on one core of the benchmark machine): an epoch costs a quarter
    to a half. And the patched network forecasts as well or better (bench/RESULTS.md; three
    seeds each unless said). Patches of 8, holdouts past 3 million window steps an epoch:
    ETTh1's columns cut into 126 series of 960 hours MASE 1.088 -> 1.085, 235-322 s -> 110-159
    s; M4 weekly 2.363 -> 2.289, 282-392 s -> 101-145 s; ETTh1 a day ahead 0.824 -> 0.798,
    345-512 s -> 109-228 s; a week ahead 0.954 -> 0.923, 438-1,047 s -> 119-145 s. Below it: the
    Taylor half-hourly series' holdouts (one series, with dates or integer steps) a day ahead
    0.1663 -> 0.1620, 55-63 s -> 31-35 s, and a week ahead 0.2460 -> 0.2395, 78-159 s -> 67-86
    s; a made set of 40 hourly series (1.1 million steps) two days ahead 0.6081 -> 0.5942.
    Patches of 4: a made set of 3,000 monthly series in M4's shape MASE 1.063 -> 1.051 (two
    seeds), 905-1,028 s -> 674-828 s; one in M3's shape 0.9545 -> 0.9507, 171-235 s -> 91-151 s;
    tourism monthly's holdout 1.808 -> 1.800, 257-302 s -> 84-191 s, and its test split MAPE
    19.60 -> 19.49, 176-228 s -> 57-62 s; a made set of 250 daily series 28 days ahead 1.0187 ->
    1.0161, 135-227 s -> 78-116 s.

    Example:
        >>> default_patch(24), default_patch(47), default_patch(48), default_patch(336), default_patch(23)
        (4, 4, 8, 8, 1)
    """
    return next((patch for patch in PATCHES if input_steps >= MIN_PATCHES * patch), 1)


def resolve_config(config: TrainConfig, series: dict[str, np.ndarray], seasons: tuple[int, ...],
                   source: str) -> TrainConfig:
    """Fill in what the flags left to the data (season, lookback, validation and training
    windows, transform, scaling, loss) and check that the data can support them.

    Args:
        config: the settings as given (None or auto where the data decides).
        series: each series' values, by id.
        seasons: the seasons of the data's frequency (`timegrid.seasons_of`: a day and a week for
            hourly data). The network's season is `config.season` if given, else the
            shortest of `config.seasons` (or of these); the others that the data carries
            (`partner_seasons`) stay candidates for the statistical partner.
        source: the data file, for messages.

    Returns:
        The config with nothing left to resolve but the batch size (set from the window count).

    Example:
        >>> resolve_config(TrainConfig(horizon=12), {"a": np.arange(144.0)}, (12,), "air.csv").lookback
        24
    """
    lengths = np.array([len(v) for v in series.values()])
    nonnegative = all(bool((v >= 0).all()) for v in series.values())
    return resolve_settings(config, lengths, nonnegative, seasons, source)


def resolve_settings(config: TrainConfig, lengths: np.ndarray, nonnegative: bool, seasons: tuple[int, ...],
                     source: str) -> TrainConfig:
    """`resolve_config` from what it needs of the data: each series' length, and whether no value
    is negative (so it can be computed from parts of the data read elsewhere)."""
    longest, shortest = int(lengths.max()), int(lengths.min())
    horizon = config.horizon
    limit = 0
    if config.season:
        candidates: tuple[int, ...] = (config.season,)
        if max(seasons, default=1) <= 1 and config.season > 1:
            limit = longer_season_limit(config.season, shortest, horizon)
    else:
        candidates = partner_seasons(config.seasons or seasons, shortest, horizon)
    season = min(candidates)
    given = config.season or min(config.seasons, default=0)
    if given > longest:  # no series holds one cycle: nothing repeats it (and a mistyped 10**12 would fill memory)
        named = [str(s) for s in seasons if 1 < s <= longest]
        raise DataError(
            f"{source}: --season {given} is longer than the longest series ({longest} rows); a season is a cycle the "
            "values repeat, and no series holds one. Give a shorter --season"
            + (f" (this data's frequency has {' and '.join(named)})." if named else ", or leave it out.")
        )
    pad = not config.covariates  # covariates have no rows before a series starts: nothing to pad with
    lookback = config.lookback or data_lookback(horizon, season, lengths, config.val_windows or 1, pad=pad)
    min_history = shortest if pad and not config.lookback and shortest < lookback else None
    if config.patch is not None and config.patch > lookback:
        raise UsageError(
            f"--patch {config.patch} is longer than the window the network reads (lookback {lookback}). "
            f"Give --patch {lookback} or less, or a longer --lookback."
        )
    val_windows = config.val_windows or default_val_windows(len(lengths), longest, lookback, horizon)
    # Windows each series offers to the refit (validation part included), the most of any stage.
    offered = offered_windows(lengths, lookback, horizon).tolist()
    max_windows = config.max_windows or default_max_windows(offered, lookback)
    need = lookback + horizon * (1 + val_windows)
    if longest < need and config.lookback:
        raise DataError(
            f"{source}: the longest series has {longest} rows, but lookback {lookback} + "
            f"horizon {horizon} for training and {val_windows} x {horizon} for validation "
            f"need at least {need}. Use a smaller --lookback or --horizon (`forecast doctor` gives the largest)."
        )
    if longest < need:  # the default lookback already took what the longest series leaves
        least = rows_needed(lookback, season, horizon, lengths, val_windows)
        raise DataError(
            f"{source}: the longest series has {longest} rows, but horizon {horizon} for training and {val_windows} "
            f"x {horizon} for validation after the shortest lookback the defaults read here, "
            f"{least - horizon * (1 + val_windows)}, need at least {least}. Use a smaller --horizon (`forecast doctor` "
            "gives the largest) or add history.")
    transform = config.transform
    if transform == "auto":
        # Log where the training data has no negative value. The log is the signed one
        # (windows.signed_log), so a later file that goes below zero is still forecast.
        transform = "log" if nonnegative else "none"
    # On a log scale, taking off the mean leaves relative changes, alike across series; on the
    # raw scale the standard deviation is needed as well.
    scaling = config.scaling if config.scaling != "auto" else ("mean" if transform == "log" else "std")
    relative = transform == "log" and scaling == "mean"  # outputs are log ratios
    loss = config.loss if config.loss != "auto" else ("ape" if relative else "mae")
    if config.quantiles:
        if config.loss not in ("auto", "pinball"):
            raise UsageError(
                f"--quantiles trains with the pinball (quantile) loss, so --loss {config.loss} cannot be used "
                "with it. Drop --loss."
            )
        loss = "pinball"
    elif loss == "pinball":
        raise UsageError("--loss pinball needs the quantile levels: add --quantiles, e.g. 0.1,0.5,0.9.")
    if loss == "ape" and not relative:
        raise UsageError(
            "--loss ape measures relative errors on a log scale and needs --transform log with "
            f"--scaling mean; this run has transform {transform} and scaling {scaling}. Use --loss mae."
        )
    return dataclasses.replace(config, season=season, seasons=candidates if len(candidates) > 1 else (),
                               longer_season_limit=limit, lookback=lookback, transform=transform, scaling=scaling,
                               loss=loss, val_windows=val_windows, max_windows=max_windows, min_history=min_history)
