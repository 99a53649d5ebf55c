"""scripts/postgres.sh, the test command's PostgreSQL, run from a checkout in a closed folder."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as the postgres user only as root")
@pytest.mark.skipif(
    not glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
    reason="PostgreSQL is not installed (scripts/test.sh installs it before its PostgreSQL pass)",
)
def test_postgres_sh_starts_from_a_checkout_the_postgres_user_cannot_enter(
    tmp_path: Path,
) -> None:
    """Issue 24, point 17: with the cluster in ./.pg, initdb (as postgres) stopped with "could not
    change directory ... Permission denied" in a clone under /root or in `mktemp -d`."""
    private = tmp_path / "private"
    (private / "checkout" / "scripts").mkdir(parents=True)
    private.chmod(0o700)  # as /root and `mktemp -d` are: only their owner enters
    script = private / "checkout" / "scripts" / "postgres.sh"
    shutil.copy2(SCRIPT, script)
    env = {k: v for k, v in os.environ.items() if k not in ("PG_DIR", "PG_PORT")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(script), *args], env=env, capture_output=True, text=True, timeout=120
        )

    try:
        started = run()
        assert started.returncode == 0, started.stderr
        url = started.stdout.strip()
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                assert connection.execute(text("SELECT 1")).scalar() == 1
        finally:
            engine.dispose()
        assert not (private / "checkout" / ".pg").exists()
        again = run()  # a second run finds the server running and prints the same URL
        assert (again.returncode, again.stdout.strip()) == (0, url), again.stderr
    finally:
        removed = run("remove")
    assert removed.returncode == 0, removed.stderr
