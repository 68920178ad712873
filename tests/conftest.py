"""Shared pytest set-up. Keep it small: fixtures used by one test file belong in that file."""

import contextlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where pyproject.toml lives)."""
    return ROOT


@pytest.fixture
def attached(tmp_path):
    """A factory: ``attached(session)`` starts `gradviz serve` on a temporary store, attaches
    this process to it as ``session`` and returns ``(server, attachment)``. After the test the
    attachment is closed, then the server stopped."""
    from test_server_util import TOKEN, served

    from gradviz.remote import attach
    with contextlib.ExitStack() as stack:
        def start(session):
            srv = stack.enter_context(served(tmp_path / "s.sqlite"))
            att = attach(srv.base, token=TOKEN, session=session)
            stack.callback(att.close)
            return srv, att
        yield start
