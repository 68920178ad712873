"""Shared pytest set-up. Keep it small: fixtures used by one test file belong in that file."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where pyproject.toml lives)."""
    return ROOT
