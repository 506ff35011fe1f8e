"""Flask commands: create-user, seed-demo, dispatch, check-integrity, check-database,
rotate-secrets, prune-events."""
import click
from flask import Flask, current_app

from app.core.errors import DomainError, Invalid


def register(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)
    app.cli.add_command(dispatch)
    app.cli.add_command(check_integrity)
    app.cli.add_command(check_database)
    app.cli.add_command(rotate_secrets)
    app.cli.add_command(prune_events)


@click.command("prune-events")
@click.option("--days", type=click.FloatRange(min=0), default=None,
              help="Keep this many days (default: EVENT_RETENTION_DAYS, 28).")
def prune_events(days):
    """Delete events older than the retention period, and finished webhook deliveries of that
    age. The sender does this by itself every hour; this is for a separate schedule."""
    from app.services.events import prune_events as prune

    click.echo(f"{prune(days=days)} event(s) older than the retention period deleted.")


@click.command("check-database")
def check_database():
    """Say in one sentence, and exit 1, when the database cannot be reached."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from app.extensions import db

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise click.ClickException(
            f"The database {db.engine.url.render_as_string(hide_password=True)} cannot be "
            f"reached ({reason}); create it or set DATABASE_URL to one that exists.") from None


@click.command("check-integrity")
def check_integrity():
    """Check counters, order numbers, statuses, open flags and tickets against the rows they
    describe; exit 1 on any mismatch."""
    from sqlalchemy import text

    from app.extensions import db
    from app.services.integrity import check_integrity as check

    if db.engine.dialect.name == "postgresql":
        # It reads every order: longer than a request's statement timeout (app.db.engine) on a
        # big database. For this transaction only; the checks read in one.
        db.session.execute(text("SET LOCAL statement_timeout = 0"))

    problems = check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo("All checks passed.")


@click.command("rotate-secrets")
def rotate_secrets():
    """Encrypt every station and webhook subscription secret under the first key of
    SECRET_ENCRYPTION_KEYS.

    Run it once after upgrading (secrets saved before were kept in plain text), and after
    putting a new key first in SECRET_ENCRYPTION_KEYS; then the old key can go.
    """
    from app.services.stations import encrypt_station_secrets

    try:
        count = encrypt_station_secrets()
    except DomainError as refused:
        raise click.ClickException(refused.message) from None
    click.echo(f"{count} station secret(s) now encrypted under the first key (webhook "
               "subscriptions' secrets included).")


@click.command("dispatch")
@click.option("--once", is_flag=True,
              help="Send what is queued now (waiting out back-offs), then stop.")
def dispatch(once):
    """Send queued printer slips and webhook deliveries.

    Server processes do this themselves unless DISPATCH_IN_BACKGROUND is off; then run this
    alongside them. Several may run at once: each job is sent by one of them.
    """
    from app.dispatch.worker import dispatcher_for

    dispatcher = dispatcher_for(current_app._get_current_object())
    if once:
        dispatcher.drain(timeout=float("inf"))
        dispatcher.stop()
        return
    click.echo("Sending dispatch jobs; Ctrl+C stops.")
    try:
        dispatcher.run()
    except KeyboardInterrupt:
        dispatcher.stop()


@click.command("create-user")
@click.argument("user_name")
@click.option("--password", required=True)
@click.option("--name", default=None)
@click.option("--rights", default="", help="Comma-separated rights, e.g. orderRead,orderUpdate")
def create_user(user_name, password, name, rights):
    """Create USER_NAME, or update their password, name and rights."""
    from app.services.users import save_user

    try:
        user = save_user(user_name=user_name, password=password, name=name,
                         rights=[r for r in rights.split(",") if r.strip()])
    except Invalid as error:
        raise click.ClickException("; ".join(f"{e.member_name}: {e.message}"
                                             for e in error.errors)) from None
    click.echo(f"User {user.user_name} saved with rights: {', '.join(user.rights) or 'none'}.")


@click.command("seed-demo")
@click.option("--orders", "bulk_orders", default=0, type=int,
              help="Also insert this many extra orders in bulk (for benchmarks).")
@click.option("--if-empty", is_flag=True, help="Do nothing when demo users exist already.")
def seed_demo(bulk_orders, if_empty):
    """Load demo stations, products, users, tickets and orders."""

    from app.db.transactions import write_transaction
    from app.seed import bulk_insert_orders, demo_users_exist, load_demo
    from app.services.history import move_change_counter

    if if_empty and demo_users_exist():
        click.echo("Demo data is there already.")
    else:
        load_demo()
        click.echo("Demo data loaded.")
    if bulk_orders:
        made = bulk_insert_orders(bulk_orders, progress=click.echo)
        # Written beside the services: the change counter moves once for them all, so a
        # running server's screens and ETags see the new orders.
        with write_transaction() as session:
            move_change_counter(session.connection())
        click.echo(f"Inserted {made} orders in bulk.")
