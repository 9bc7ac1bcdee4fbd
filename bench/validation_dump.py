"""`forecast` (the frozen copy on PYTHONPATH) that also saves, to the file named by
`BENCH_VALIDATION_DUMP`, the validation windows `--blend auto` chose on: for each window its
series, actual values, the network's and the partner's point forecasts and its MASE scale
(`validation.npz`, arrays only). `bench/suite.py --dump-validation` trains with it, so that
`bench/choices.py` can screen other ways of choosing the blend without training again (the
networks do not depend on the choice). The tool itself is unchanged: the two functions are
wrapped here, in the benchmark's own process.
"""

from __future__ import annotations

import os

import numpy as np

from forecast_cli import blend, cli, pipeline

_ids: list[np.ndarray] = []


def _validation_metrics(ws, *args, **kwargs):
    _ids.append(np.array(ws.val_ids, dtype=str))
    return _original_metrics(ws, *args, **kwargs)


def _blend_scores(actual, network, baseline, scales, *args, **kwargs):
    np.savez(os.environ["BENCH_VALIDATION_DUMP"], actual=actual, point=network, base=baseline,
             scales=scales, ids=_ids[-1])
    return _original_scores(actual, network, baseline, scales, *args, **kwargs)


_original_metrics, _original_scores = pipeline.validation_metrics, blend.blend_scores
pipeline.validation_metrics, blend.blend_scores = _validation_metrics, _blend_scores

if __name__ == "__main__":
    cli.main()
