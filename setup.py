"""The package list, which pyproject.toml cannot say: app's packages, and the plan's data file
kept at the top level (seed/, as the design card says), carried inside the package as app.seed,
where app.store.seeding reads it. Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["app", "app.*"]), "app.seed"],
    package_dir={"app.seed": "seed"},
)
