"""Flask commands: create-user, seed-demo."""
import click
from flask import Flask

from app.errors import Invalid


def register(app: Flask) -> None:
    app.cli.add_command(create_user)
    app.cli.add_command(seed_demo)


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
    from app.seed import bulk_insert_orders, demo_users_exist, load_demo

    if if_empty and demo_users_exist():
        click.echo("Demo data is there already.")
    else:
        load_demo()
        click.echo("Demo data loaded.")
    if bulk_orders:
        made = bulk_insert_orders(bulk_orders, progress=click.echo)
        click.echo(f"Inserted {made} orders in bulk.")
