"""Installs vipseg; dependencies are read from requirements/*.txt."""

import os.path as osp

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list[str]:
    with open(osp.join(HERE, "requirements", f"{name}.txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def read_version() -> str:
    with open(osp.join(HERE, "vipseg", "__init__.py")) as f:
        for line in f:
            if line.startswith("__version__"):
                return line.split("=")[1].strip().strip('"')
    raise RuntimeError("no __version__ in vipseg/__init__.py")


setup(
    name="vipseg",
    version=read_version(),
    description="MMSegmentation-style semantic segmentation for data-efficient urban scenes",
    long_description=open(osp.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["vipseg", "vipseg.*"]),
    install_requires=read_requirements("runtime"),
    extras_require={
        "tests": read_requirements("tests"),
        "optional": read_requirements("optional"),
        # TimmBackbone: any timm model as a backbone (pip install -e ".[timm]")
        "timm": ["timm>=1.0"],
        "all": read_requirements("tests") + read_requirements("optional"),
    },
    license="Apache-2.0",
)
