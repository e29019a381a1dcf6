"""Shared fixtures: a small generated toy city, and vipseg's registries populated."""

import pytest

from vipseg.utils import register_all_modules

register_all_modules()


@pytest.fixture(scope="session")
def toycity_root(tmp_path_factory):
    """A tiny toy city (4 train / 2 val images of 128x256) in the Cityscapes layout."""
    from vipseg.datasets.toycity import make_toycity

    root = tmp_path_factory.mktemp("toycity")
    make_toycity(root, num_train=4, num_val=2, height=128, width=256, seed=0)
    return root
