"""Paths in results and reports are written relative to the repository, never as this machine's.

A result file records the command that produced it and, for profiles, the functions' files. Both
come out of Python as absolute paths (``/home/me/ams-billing/benchmarks/bench_parse.py``,
``/…/.nox/bench/lib/python3.11/site-packages/ams_billing/…``) that mean nothing on the
reader's machine and tell them where the writer keeps their files. :func:`portable` rewrites
them to what a reader can find: ``benchmarks/bench_parse.py``, ``site-packages/ams_billing/…``,
``<stdlib>/json/decoder.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
"""The checkout the benchmarks run from."""

_SITE_PACKAGES = re.compile(r"/(?:[^\s'\"`():]+/)*site-packages/")
_STDLIB = re.compile(r"/(?:[^\s'\"`():]+/)*lib/python3\.\d+/")
# A path into a checkout other than this one (a worktree, another clone): kept from the folder
# the repository's own top-level folders start at.
_OTHER_CHECKOUT = re.compile(r"/(?:[^\s'\"`():]+/)+?(?=(?:benchmarks|soak|src|tests)/)")


def portable_text(text: str, root: Path = REPOSITORY) -> str:
    """``text`` with every absolute path made relative to the repository or its install."""
    text = _SITE_PACKAGES.sub("site-packages/", text)
    text = _STDLIB.sub("<stdlib>/", text)
    text = text.replace(f"{root}/", "")
    return _OTHER_CHECKOUT.sub("", text)


def portable(value: Any, root: Path = REPOSITORY) -> Any:
    """``value`` (a result document) with :func:`portable_text` applied to every string in it."""
    if isinstance(value, str):
        return portable_text(value, root)
    if isinstance(value, dict):
        return {key: portable(item, root) for key, item in value.items()}
    if isinstance(value, list):
        return [portable(item, root) for item in value]
    return value
