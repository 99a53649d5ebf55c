#!/usr/bin/env python3
"""Compare what an environment holds with uv.lock; exit 1 naming every difference.

Run it with the interpreter of the environment to check (the image's, run.sh's, the tests'):

    ENV/bin/python scripts/check_lock.py [--lock uv.lock] [--extra dev]...

Every package the lock requires there (the project's dependencies and the extras asked for,
followed through the lock with markers evaluated for that interpreter) must be installed at the
locked version, and everything else installed (bar pip and setuptools) must be in the lock at
its locked version. Only the standard library: it runs in the image's build stage too.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import operator
import os
import platform
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

BOOTSTRAP = {"pip", "setuptools", "wheel"}  # what `python3 -m venv` brings, when not locked
_OPERATORS = {
    "==": operator.eq,
    "===": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_COMPARISON = re.compile(r"(\w+)\s*(===|==|!=|<=|>=|~=|<|>)\s*'([^']*)'")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _environment() -> dict[str, str]:
    return {
        "python_full_version": platform.python_version(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "platform_python_implementation": platform.python_implementation(),
        "implementation_name": sys.implementation.name,
        "os_name": os.name,
        "extra": "",
    }


def applies(marker: str | None, environment: dict[str, str]) -> bool:
    """A PEP 508 marker of the forms uv writes (comparisons joined by and/or, parentheses)."""
    if not marker:
        return True

    def compare(name: str, op: str, value: str) -> bool:
        if name.endswith("_version"):
            have, want = _version(environment[name]), _version(value)
            if op == "~=":
                return have >= want and have[: len(want) - 1] == want[:-1]
            return bool(_OPERATORS[op](have, want))
        return bool(_OPERATORS[op](environment[name], value))

    expression = _COMPARISON.sub(lambda m: f"_c({m[1]!r}, {m[2]!r}, {m[3]!r})", marker)
    if re.sub(r"_c\('[^']*', '[^']*', '[^']*'\)|\band\b|\bor\b|[()\s]", "", expression):
        raise ValueError(f"marker not understood: {marker}")
    return bool(eval(expression, {"__builtins__": {}, "_c": compare}))


def required(lock: dict[str, Any], extras: list[str]) -> dict[str, set[str]]:
    """name -> locked versions, for every package this interpreter needs."""
    packages: dict[str, list[dict[str, Any]]] = {}
    for package in lock["package"]:
        packages.setdefault(normalise(package["name"]), []).append(package)
    roots = [p for p in lock["package"] if {"editable", "virtual", "directory"} & set(p["source"])]
    if len(roots) != 1:
        raise SystemExit(f"check_lock: expected one project in the lock, found {len(roots)}")
    environment = _environment()
    wanted: dict[str, set[str]] = {}
    queue: list[tuple[str, tuple[str, ...]]] = [(normalise(roots[0]["name"]), tuple(extras))]
    seen: set[tuple[str, tuple[str, ...]]] = set()
    while queue:
        name, chosen = queue.pop()
        if (name, chosen) in seen:
            continue
        seen.add((name, chosen))
        for package in packages[name]:
            wanted.setdefault(name, set()).add(package["version"])
            edges = list(package.get("dependencies", []))
            for extra in chosen:
                edges += package.get("optional-dependencies", {}).get(extra, [])
            for edge in edges:
                if applies(edge.get("marker"), environment):
                    queue.append((normalise(edge["name"]), tuple(edge.get("extra", []))))
    return wanted


def differences(lock_file: Path, extras: list[str]) -> list[str]:
    lock = tomllib.loads(lock_file.read_text(encoding="utf-8"))
    wanted = required(lock, extras)
    locked: dict[str, set[str]] = {}
    for package in lock["package"]:
        locked.setdefault(normalise(package["name"]), set()).add(package["version"])
    installed = {
        normalise(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()
    }
    problems = []
    for name, versions in sorted(wanted.items()):
        if name not in installed:
            problems.append(f"{name}: missing (the lock has {' or '.join(sorted(versions))})")
    for name, version in sorted(installed.items()):
        if name in locked and version not in locked[name]:
            have = " or ".join(sorted(locked[name]))
            problems.append(f"{name}: {version} installed, the lock has {have}")
        elif name not in locked and name not in BOOTSTRAP:
            problems.append(f"{name}: {version} installed, not in the lock")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", type=Path, default=Path(__file__).parent.parent / "uv.lock")
    parser.add_argument("--extra", action="append", default=[], help="an extra that is installed")
    args = parser.parse_args()
    problems = differences(args.lock, args.extra)
    for problem in problems:
        print(f"check_lock: {sys.prefix}: {problem}", file=sys.stderr)
    if not problems:
        count = len(list(importlib.metadata.distributions()))
        print(f"check_lock: {sys.prefix}: {count} distributions, as in {args.lock.name}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
