"""Configuration: the secret key is generated once under instance/, never a constant."""

from pathlib import Path

from needs_tracker import create_app


def test_secret_key_generated_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("config.Config.SECRET_KEY", None)
    monkeypatch.setattr("config.INSTANCE_DIR", tmp_path)
    first = create_app("development")
    second = create_app("development")
    key_file = Path(first.instance_path) / "secret_key"
    assert key_file.exists()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64


def test_database_url_from_environment(monkeypatch, tmp_path):
    import importlib

    import config

    url = f"sqlite:///{tmp_path}/x.db"
    monkeypatch.setenv("DATABASE_URL", url)
    reloaded = importlib.reload(config)
    try:
        assert url == reloaded.Config.SQLALCHEMY_DATABASE_URI
    finally:
        monkeypatch.delenv("DATABASE_URL")
        importlib.reload(config)
