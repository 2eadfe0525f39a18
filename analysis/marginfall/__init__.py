"""marginfall analysis: read marginfall result files and compute tail statistics.

Use without installing: ``PYTHONPATH=analysis /usr/bin/python3``.

>>> import marginfall as mf
>>> with mf.open_results("sweep.h5") as ds:
...     ds.liquidated_notional_quantile.sel(quantile=0.99)

See docs/analysis.md for every function and statistic.
"""
from .io import open_results, FormatError, SUPPORTED_MAJORS, metric_names, path_samples
from .traces import open_trace, list_traces, NoTracesError
from . import stats

__version__ = "0.1.0"
__all__ = ["open_results", "FormatError", "SUPPORTED_MAJORS", "metric_names", "path_samples",
           "stats", "open_trace", "list_traces", "NoTracesError",
           "__version__"]
