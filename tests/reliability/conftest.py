"""The soak runner lives in soak/ at the repository root; make it importable here."""

from __future__ import annotations

import sys
from pathlib import Path

SOAK_DIR = Path(__file__).resolve().parents[2] / "soak"
if str(SOAK_DIR) not in sys.path:
    sys.path.insert(0, str(SOAK_DIR))
