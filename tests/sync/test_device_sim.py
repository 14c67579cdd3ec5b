"""`superapp device-sim` runs end to end (its own server, a lossy link) and reports convergence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_device_sim_converges_over_a_lossy_link() -> None:
    cli = Path(sys.executable).parent / "superapp"
    done = subprocess.run([str(cli), "device-sim", "--loss", "0.4", "--seed", "3"], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONVERGED" in done.stdout
    assert "draft.submit: APPLIED" in done.stdout
