"""The dashboard's own tests, run as part of the one test command: its unit and component tests
(Vitest, no server), and the end-to-end run in Debian's headless Chromium against a real Photon
that the run starts itself (``frontend/e2e/run.mjs``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
CHROMIUM = os.environ.get("PHOTON_E2E_CHROMIUM", "/usr/bin/chromium")


def _npm(script: str, timeout: float) -> subprocess.CompletedProcess:
    if not (FRONTEND / "node_modules").is_dir():
        pytest.skip("frontend/node_modules is missing: `make test` installs it (npm ci)")
    env = dict(os.environ)
    # The venv's bin first, as the Makefile has it: its node when the machine has none.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    npm = shutil.which("npm", path=env["PATH"])
    if npm is None:
        pytest.skip("no npm: `make test` installs Node.js into the venv when there is none")
    return subprocess.run(
        [npm, "run", "--silent", script],
        cwd=FRONTEND,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_unit_and_component_tests_pass():
    done = _npm("test", timeout=300)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert " passed" in done.stdout


@pytest.mark.slow
def test_end_to_end_in_a_real_browser_against_a_real_server():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(
            f"no browser at {CHROMIUM}: install Debian's chromium "
            "(apt-get install -y chromium); .ci/run does"
        )
    done = _npm("e2e", timeout=900)
    # The run prints its figures (bundle size, chart render time) and the screenshots' paths.
    print(done.stdout[-4000:])
    assert done.returncode == 0, done.stdout[-8000:] + done.stderr[-3000:]
