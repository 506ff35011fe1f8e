"""The demo data is made through the real services and covers every status."""
from decimal import Decimal

from sqlalchemy import func, select

from app.core import status as S
from app.extensions import db
from app.models import User
from app.models.orders import Order, OrderItem
from tests.conftest import lines


def test_seed_demo_covers_every_status_and_both_sources(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    statuses = set(db.session.scalars(select(Order.status)))
    assert statuses == set(S.ALL)
    assert set(db.session.scalars(select(Order.source))) == {"ticket", "basket"}
    assert db.session.scalar(select(func.count()).where(Order.is_void.is_(True))) >= 1
    rights = {u.user_name: set(u.rights) for u in db.session.scalars(select(User))}
    assert rights["cook"] == {"orderRead", "orderUpdate"}
    assert rights["customer"] == set()
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "there already" in again.output


def test_bulk_orders_continue_the_numbering(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--orders", "300"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    numbers = list(db.session.scalars(select(Order.number).order_by(Order.number)))
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 300
    # Amounts written in bulk (executemany on SQLite, COPY on PostgreSQL) read back as exact
    # decimals, and add up in SQL: each sub-total is the sum of its items' totals.
    item_sums = (select(OrderItem.order_id, func.sum(OrderItem.total).label("total"))
                 .group_by(OrderItem.order_id).subquery())
    pairs = db.session.execute(select(Order.sub_total, item_sums.c.total)
                               .join(item_sums, item_sums.c.order_id == Order.id)).all()
    assert len(pairs) == len(numbers)
    assert all(isinstance(a, Decimal) and a == b and a == a.quantize(Decimal("0.01"))
               for a, b in pairs)
    # Rows inserted in bulk leave the id sequences usable: a ticket still makes an order.
    from app.models import Device
    from app.services.tickets import create_ticket

    waiter = db.session.scalar(select(User).where(User.user_name == "waiter"))
    device = db.session.scalar(select(Device))
    _, (order,) = create_ticket(user=waiter, device=device, name="After bulk",
                                lines=lines(("BURGER", 1)))
    assert order.number == numbers[-1] + 1
    # Bulk orders agree with every rule the integrity check knows (courses fired, counters,
    # order types), and are of the order types and rush marks a list can be filtered by.
    from app.services import integrity

    assert integrity.check_integrity() == []
    kinds = set(db.session.scalars(select(Order.order_type).distinct()))
    assert {"dineIn", "takeout", "delivery"} <= kinds
