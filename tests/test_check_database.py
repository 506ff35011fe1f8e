"""`flask check-database`, which `make run` runs first: a database that cannot be reached is
one clear sentence, not a traceback."""
from tests.conftest import POSTGRES, make_app


def test_a_reachable_database_says_nothing(app):
    result = app.test_cli_runner().invoke(args=["check-database"])
    assert result.exit_code == 0 and result.output == ""


def test_a_missing_database_is_one_sentence():
    missing = make_app(POSTGRES.replace("postgresql://", "postgresql+psycopg://")
                       + "/orders_no_such_database")
    with missing.app_context():  # as the flask command gives it
        result = missing.test_cli_runner().invoke(args=["check-database"])
    assert result.exit_code == 1
    assert 'database "orders_no_such_database" does not exist' in result.output
    assert "create it or set DATABASE_URL" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
