"""Units and documentation of config keys, from ``marginfall schema --format json``.

The binary is found from the ``binary`` argument, else ``MARGINFALL_BINARY`` or ``MF_BINARY``
in the environment, else ``marginfall`` on PATH, else ``build/release/marginfall`` of the
repository this package sits in. Without a binary every lookup degrades to an empty unit and
the key itself as documentation, so plots still get labels.
"""
from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess

_REPO_BINARY = os.path.join(os.path.dirname(__file__), "..", "..", "build", "release",
                            "marginfall")


def find_binary(binary=None):
    """Path of a marginfall binary, or None."""
    for cand in (binary, os.environ.get("MARGINFALL_BINARY"), os.environ.get("MF_BINARY"),
                 shutil.which("marginfall"), _REPO_BINARY):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.abspath(cand)
    return None


@functools.lru_cache(maxsize=4)
def load_schema(binary=None):
    """{key: row} from ``marginfall schema --format json`` ({} when no binary answers)."""
    exe = find_binary(binary)
    if exe is None:
        return {}
    try:
        out = subprocess.run([exe, "schema", "--format", "json"], capture_output=True,
                             text=True, timeout=30, check=True).stdout
        rows = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}
    return {row["key"]: row for row in rows if "key" in row}


def _row(key, binary=None):
    schema = load_schema(binary)
    if key in schema:
        return schema[key]
    # list items: venue.markets.BTC.depth_usd -> venue.markets[].depth_usd
    generic = re.sub(r"\.(\w+)\.(?=\w+$)", "[].", key)
    for k in (generic, re.sub(r"\.\d+\.", "[].", key)):
        if k in schema:
            return schema[k]
    return {}


def unit(key, binary=None):
    """Unit of a config key ('' when dimensionless or unknown)."""
    u = _row(key, binary).get("unit", "") or ""
    return "" if u == "-" else u


def doc(key, binary=None):
    """One-line documentation of a config key (the key itself when unknown)."""
    return _row(key, binary).get("doc") or key


def axis_label(key, binary=None, short=None):
    """An axis label for a swept key: 'short name (unit)'; the unit omitted when there is none."""
    name = short or key
    u = unit(key, binary)
    return f"{name} ({u})" if u and u != "-" else name
