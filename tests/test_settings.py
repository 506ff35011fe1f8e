"""Settings the server refuses to start with, and the entry points that say so in one sentence:
without SECRET_KEY only an explicit development or testing mode runs (on the key published
with the source); everything else, an unset ORDERS_ENV included, refuses."""
import os
import socket
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from flask.sessions import SecureCookieSessionInterface

from app import create_app
from app.config import DEVELOPMENT_SECRET_KEY, SettingsError, load_config
from app.extensions import db
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
SENTENCE = "SECRET_KEY is not set"
UNSET = ("SECRET_KEY", "ORDERS_ENV", "SECRET_ENCRYPTION_KEYS", "FLASK_APP")


def environment(tmp_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'settings.db'}"
    env.update(settings)
    return env


@pytest.fixture
def bare_environment(monkeypatch):
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


def test_without_orders_env_or_secret_key_the_app_refuses_to_start(bare_environment, tmp_path):
    with pytest.raises(SettingsError) as refused:
        load_config(str(tmp_path))
    message = str(refused.value)
    assert message.startswith(SENTENCE) and "ORDERS_ENV=development" in message
    assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    for mode in ("production", "staging", "Development"):
        with pytest.raises(SettingsError):
            load_config(str(tmp_path), {"ENV": mode})


@pytest.mark.parametrize("mode", ["development", "testing"])
def test_only_development_and_testing_run_on_the_published_key(bare_environment, tmp_path,
                                                                monkeypatch, mode):
    monkeypatch.setenv("ORDERS_ENV", mode)
    assert load_config(str(tmp_path))["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY


def test_the_published_key_is_refused_when_given_outside_development(bare_environment,
                                                                      tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    with pytest.raises(SettingsError, match="development key published with the source"):
        load_config(str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "a-key-of-our-own-" + "x" * 32)
    assert load_config(str(tmp_path))["ENV"] == "production"


def test_a_cookie_forged_with_the_published_key_opens_nothing(app, bare_environment,
                                                              monkeypatch):
    # The attack: a session cookie signed with the key in the source, naming an admin, opened
    # /admin/users of a server started with no settings. Such a server no longer starts; one
    # with a key of its own does not take the forgery.
    admin = make_user("root", ["admin"])
    monkeypatch.setenv("SECRET_KEY", "production-key-" + "k" * 40)
    production = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                             "DISPATCH_IN_BACKGROUND": False, "RATELIMIT_ENABLED": False})
    assert production.config["ENV"] == "production"
    forger = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                         "ENV": "development", "SECRET_KEY": None,
                         "DISPATCH_IN_BACKGROUND": False})
    assert forger.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = serializer.dumps({"_user_id": admin.get_id(), "_fresh": True})
    browser = production.test_client()
    browser.set_cookie("session", forged)
    response = browser.get("/admin/users")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    # The same cookie on a development server is a session: the key only protects production.
    dev_browser = forger.test_client()
    dev_browser.set_cookie("session", forged)
    assert dev_browser.get("/admin/users").status_code == 200
    for made in (production, forger):
        with made.app_context():
            db.engine.dispose()


def test_wsgi_refuses_with_one_sentence_and_no_traceback(tmp_path):
    run = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False, env=environment(tmp_path))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and SENTENCE in lines[0], run.stderr
    # In development mode, as `make run` starts it, it starts.
    run = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60, check=False,
                         env=environment(tmp_path, ORDERS_ENV="development"))
    assert run.returncode == 0, run.stderr


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path):
    env = environment(tmp_path, PORT=str(free_port()), WEB_CONCURRENCY="1")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.communicate(timeout=20)
        pytest.fail("gunicorn started without a SECRET_KEY")
    assert process.returncode != 0
    assert SENTENCE in stderr and "Traceback" not in stderr, stderr
    assert not (tmp_path / "settings.db").exists()  # refused before migrating anything


def test_make_run_sets_development_mode_explicitly(tmp_path):
    # A stand-in for the virtual environment's flask records what each command of `make run`
    # was started with, even when the caller's environment says production.
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.txt"
    flask = venv / "bin" / "flask"
    flask.write_text(f'#!/bin/sh\necho "$ORDERS_ENV $*" >> "{log}"\n')
    flask.chmod(flask.stat().st_mode | stat.S_IEXEC)
    (venv / ".installed").touch()
    os.utime(venv / ".installed", (2**31 - 1, 2**31 - 1))  # newer than pyproject.toml
    run = subprocess.run(["make", "--no-print-directory", "run", f"VENV={venv}"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=False,
                         env=environment(tmp_path, ORDERS_ENV="production"))
    assert run.returncode == 0, run.stderr
    calls = log.read_text().splitlines()
    assert [c.split(" ", 3)[3] for c in calls] == [
        "check-database", "db upgrade", "seed-demo --if-empty", "run --host 127.0.0.1 --port 5000 --with-threads"]
    assert all(c.startswith("development --app wsgi ") for c in calls), calls


def test_lifetimes_and_keys_come_from_the_environment(bare_environment, tmp_path,
                                                      monkeypatch):
    monkeypatch.setenv("ORDERS_ENV", "development")
    config = load_config(str(tmp_path))
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=14)
    assert config["SESSION_LIFETIME"] == timedelta(hours=12)
    monkeypatch.setenv("REMEMBER_DAYS", "3")
    monkeypatch.setenv("SESSION_LIFETIME_HOURS", "1.5")
    config = load_config(str(tmp_path))
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(days=3)
    assert config["SESSION_LIFETIME"] == timedelta(hours=1.5)
    monkeypatch.setenv("SECRET_ENCRYPTION_KEYS", "not-a-key")
    with pytest.raises(SettingsError, match="SECRET_ENCRYPTION_KEYS: key 1 is not a Fernet"):
        load_config(str(tmp_path))
