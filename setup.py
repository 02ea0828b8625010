"""The packages the wheel holds, found rather than listed: everything under migdoctor/ (the data
directories with it) and checks/, installed as migdoctor.checks. The rest is in pyproject.toml."""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["migdoctor", "migdoctor.*"]),
        *(f"migdoctor.{name}" for name in find_namespace_packages(include=["checks", "checks.*"])),
    ],
    package_dir={"migdoctor.checks": "checks"},
)
