"""The README's commands work as written: each command line it shows is one the real parser takes,
run the way `scripts/run.sh` leaves the checkout (`.venv/bin/u4ssc-calendar`, not on PATH)."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from app.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMAND = ".venv/bin/u4ssc-calendar"
# Placeholders the README writes, and a value of the right kind for each.
PLACEHOLDERS = {
    "UID": "ai-in-cities-wg2-2023-07-27",
    "ID": "1",
    "NAME": "laptop",
    "URL": "https://example.org/h",
}
# Markdown code spans and the lines of ```sh blocks.
SPANS = re.findall(r"`([^`\n]+)`", README)
BLOCK_LINES = [
    line
    for block in re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    for line in block.replace("\\\n", " ").splitlines()
]


def _commands() -> list[str]:
    found = []
    for text in [*SPANS, *BLOCK_LINES]:
        for match in re.finditer(re.escape(COMMAND) + r"((?: [^#;`]*)?)", text):
            if match.group(1).strip():  # not the bare name, as prose mentions it
                found.append(match.group(1).strip())
    return found


COMMANDS = _commands()


def test_the_readme_shows_the_command_line() -> None:
    assert len(COMMANDS) >= 20, COMMANDS


@pytest.mark.parametrize("line", COMMANDS)
def test_every_command_in_the_readme_is_one_the_parser_takes(line: str) -> None:
    """Issue 24, points 2 and 13: the README wrote `u4ssc-calendar ...` (not on PATH after
    run.sh) and verbs the command line did not have (`user enable`)."""
    line = re.sub(r"\[[^\]]*\]\.*", "", line)  # optional parts: [--group SLUG]...
    args = [PLACEHOLDERS.get(word, word) for word in shlex.split(line)]
    try:
        parsed = main.build_parser().parse_args(args)
    except SystemExit as stop:
        assert stop.code == 0, f"README: {COMMAND} {line}"
        return
    assert callable(parsed.handler)


def test_no_shell_line_runs_a_command_that_is_not_on_path_after_run_sh() -> None:
    bare = [line for line in BLOCK_LINES if re.match(r"\s*u4ssc-calendar\s", line)]
    assert not bare, f"after run.sh these are {COMMAND} ...: {bare}"


def test_no_document_names_app_models_py_which_is_a_folder() -> None:
    """Issue 24, point 16: "After changing app/models.py" (it is app/models/ now)."""
    assert (ROOT / "app" / "models").is_dir()
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        assert "app/models.py" not in doc.read_text(encoding="utf-8"), doc


def test_the_mail_example_installs_aiosmtpd_before_running_it() -> None:
    """Issue 24, point 16: `.venv/bin/python -m aiosmtpd` failed in the venv run.sh makes, which
    holds only the service's dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(d.startswith("aiosmtpd") for d in project["dependencies"])
    assert any(d.startswith("aiosmtpd") for d in project["optional-dependencies"]["dev"])
    (block,) = [b for b in re.findall(r"```sh\n(.*?)```", README, flags=re.S) if "aiosmtpd" in b]
    lines = block.splitlines()
    runs = next(n for n, line in enumerate(lines) if "-m aiosmtpd" in line)
    installs = [line for line in lines[:runs] if re.match(r"scripts/uv sync .*--extra dev", line)]
    assert installs and "--inexact" in installs[0], block


def test_the_image_size_is_the_measured_one_and_says_how_to_check() -> None:
    """Issue 24, point 16: the image built at 207 MB; the docs said 189 MB."""
    text = " ".join((ROOT / "docs" / "operations.md").read_text(encoding="utf-8").split())
    said = re.findall(r"(about \d+ MB|measured \d+ MB|at \d+ MB)", text)
    assert said and "189 MB" not in text, said
    assert "docker image ls u4ssc-calendar" in text
