import pytest


@pytest.fixture
def profile(monkeypatch):
    """Switch BOOK_PROFILE for one test: ``profile("book")``."""

    def set_profile(name):
        monkeypatch.setenv("BOOK_PROFILE", name)

    return set_profile


@pytest.fixture
def no_data(monkeypatch, tmp_path):
    """No mirror, an empty Keras cache, no downloads."""
    monkeypatch.delenv("BOOK_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("BOOK_OFFLINE", "1")
    monkeypatch.setenv("BOOK_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path
