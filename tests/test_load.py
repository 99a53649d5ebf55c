"""A short run of bench/load.py (the 60 s run is in docs/reliability.md): pollers and a writer
against a real uvicorn process; no error answer, whole feeds, ETags that follow the writes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_feeds_hold_under_polling_while_a_writer_changes_a_meeting() -> None:
    command = [sys.executable, "bench/load.py", "--duration", "5", "--connections", "20"]
    done = subprocess.run(
        [*command, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["errors"] == {}
    assert result["violations"] == []
    assert result["writes"] >= 1
    # Every acknowledged write showed in the next feed, under a new ETag.
    assert result["feed_changed_after_write"] == result["writes"]
    # Both kinds of poller were served: fresh bodies and revalidations.
    assert result["200"] > 0 and result["304"] > 0
