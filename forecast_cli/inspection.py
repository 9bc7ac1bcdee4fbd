"""`forecast inspect`: what a model directory is, from its manifest and metrics (no network is loaded)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from forecast_cli.baselines import FITS, LABELS
from forecast_cli.blend import blend_text
from forecast_cli.data import Columns
from forecast_cli.manifest import METRICS_FILE, read_manifest
from forecast_cli.output import counted, number


def describe(model_dir: str | Path) -> dict[str, Any]:
    """What the model was trained on, when, with which versions and settings, its validation
    scores and the blend chosen, as one JSON-ready dict.

    Args:
        model_dir: a directory written by `forecast train` (its manifest is validated first).

    Returns:
        `trained_on` (file, sha256, series, time kind, frequency, season, columns), `forecast`
        (horizon, lookback, quantiles, blend weight and baseline, engine files), `created_at`,
        `versions`, `config` (every setting) and `validation` (metrics.json, or None if absent).

    Example:
        >>> describe("model")["forecast"]["horizon"]
        12
    """
    root = Path(model_dir)
    manifest = read_manifest(root)
    cfg = manifest.config
    metrics_path = root / METRICS_FILE
    validation, unreadable = None, None
    if metrics_path.is_file():
        try:
            validation = json.loads(metrics_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            unreadable = str(exc)  # informational only: predict never reads it, so not an error
    data = manifest.data
    return {
        "model_dir": str(root),
        "format_version": manifest.format_version,
        "created_at": manifest.created_at,
        "trained_on": {
            "source": data.source if data else None,
            "sha256": data.sha256 if data else None,
            "as_of": data.as_of if data else None,  # the rows up to this time only (`train --as-of`)
            "series": len(manifest.series),
            # Series of values below 1, counted in a larger unit before the log (`windows.log_unit`).
            "series_in_units": sum(info.unit != 1.0 for info in manifest.series.values()),
            "time_kind": manifest.time_kind,
            "freq": manifest.freq,
            "season": manifest.season,
            "columns": {"time_col": manifest.columns.time_col, "target_col": manifest.columns.target_col,
                        "id_col": manifest.columns.id_col, "all_columns": list(manifest.columns.all_columns),
                        "series": list(manifest.columns.series), "day_first": manifest.columns.day_first},
            "covariates": list(cfg.covariates),
        },
        "forecast": {
            "horizon": cfg.horizon,
            "lookback": cfg.lookback,
            "min_history": cfg.least_history,  # the fewest values a series needs (below the lookback: padded)
            "patch": cfg.patch or 1,
            "quantiles": list(cfg.quantiles),
            "blend_weight": cfg.blend,
            "baseline": cfg.baseline,
            "partner_season": cfg.baseline_season,
            "onnx": bool(manifest.onnx and manifest.onnx.get("file")),
        },
        "versions": manifest.versions,
        "config": cfg.to_dict(),
        "validation": validation,
        "validation_unreadable": unreadable,  # why metrics.json, there, could not be read; None otherwise
    }


def _columns(doc: dict[str, Any]) -> Columns:
    return Columns(doc["time_col"], doc["target_col"], doc["id_col"], tuple(doc["all_columns"]), tuple(doc["series"]))


def lines(summary: dict[str, Any]) -> list[str]:
    """`describe`'s summary as lines for a person to read."""
    on, fc = summary["trained_on"], summary["forecast"]
    when = f"dates, frequency {on['freq']}" if on["time_kind"] == "datetime" else "integer steps"
    aggregate = summary["config"].get("aggregate")
    if aggregate:
        when += f" ({'summed' if aggregate == 'sum' else 'averaged'} per period: --aggregate {aggregate})"
    out = [
        f"model      {summary['model_dir']} (format {summary['format_version']}, written {summary['created_at']})",
        f"trained on {on['source']} (sha256 {str(on['sha256'])[:12]}...)"
        + (f" as of {on['as_of']}" if on.get("as_of") else "")
        + f": {on['series']} series; {when}; season {on['season']}"
        + (f" (statistical partner: {fc['partner_season']})" if fc["partner_season"] != on["season"] else "")
        + (f"; {on['series_in_units']} of them counted in a larger unit (values below 1)" if on["series_in_units"] else ""),
        f"columns    {_columns(on['columns']).roles()}" + (" (wide: one column per series)" if on["columns"]["series"] else "")
        + {True: "; dates day first (31/12/2023)", False: "; dates month first (12/31/2023)"}.get(
            on["columns"].get("day_first"), "")
        + ("; numbers with a decimal comma (1.234,5)" if summary["config"].get("decimal_comma") else "")
        + ("; numbers with commas between thousands (1,234.5)" if summary["config"].get("thousands_comma") else "")
        + (f"; text in {summary['config']['encoding']}" if "encoding" in summary["config"] else "")
        + (f"; covariates: {', '.join(on['covariates'])}" if on["covariates"] else ""),
        f"forecast   {fc['horizon']} steps from the last {fc['lookback']}"
        + (f" (read in patches of {fc['patch']})" if fc["patch"] > 1 else "")
        + (f", series of {fc['min_history']} or more (shorter than {fc['lookback']}: padded by their first season)"
           if fc["min_history"] < fc["lookback"] else "")
        + f"; {blend_text(fc['blend_weight'], fc['baseline'])}"
        + (f"; quantiles {', '.join(f'{q:g}' for q in fc['quantiles'])}" if fc["quantiles"] else "")
        + ("; ONNX" if fc["onnx"] else "; Keras only"),
    ]
    cfg = summary["config"]
    out.append("settings   " + ", ".join(f"{k}={cfg[k]}" for k in (
        "units", "layers", "epochs", "batch_size", "learning_rate", "loss", "transform", "scaling", "window_norm",
        "seed", "ensemble", "refit")))
    out.append("versions   " + ", ".join(f"{k} {v}" for k, v in summary["versions"].items()))
    val = summary["validation"]
    if val:
        # MASE where the histories vary from season to season; else (a series that repeats its
        # season exactly has no seasonal naive error to scale by) MAE.
        scores = [f"{name} MASE {val[key]['mase']:.4g}" if val[key].get("mase") is not None
                  else f"{name} MAE {number(val[key]['mae'])}" for key, name in
                  (("lstm", "forecast"), ("lstm_alone", "LSTM alone"), *((m, LABELS[m]) for m in FITS),
                   ("seasonal_naive", "seasonal naive"))
                  if isinstance(val.get(key), dict) and (val[key].get("mase"), val[key].get("mae")) != (None, None)]
        windows = val.get("windows")
        out.append(f"validation {counted(windows, 'window') if isinstance(windows, int) else f'{windows} windows'}: "
                   + "; ".join(scores))
        if isinstance(val.get("choice"), dict):
            out.append(f"chosen     {val['choice'].get('shipped')}: {val['choice'].get('reason')}")
    elif summary.get("validation_unreadable"):
        out.append(f"validation {METRICS_FILE} cannot be read ({summary['validation_unreadable']}); predict does not "
                   "need it, and the next training writes it again")
    else:
        out.append(f"validation no {METRICS_FILE} in the model directory")
    return out
