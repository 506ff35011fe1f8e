"""The integrity checks (app/services/integrity.py, `flask check-integrity`): silent on a
consistent database, and each finds the mismatch it is for."""
from decimal import Decimal

from sqlalchemy import update

from app.extensions import db
from app.models import Counter, TicketItem
from app.models.orders import Order, OrderEntry
from app.services import order_status
from app.services.integrity import check_integrity
from tests.conftest import make_ticket


def _run(app):
    return app.test_cli_runner().invoke(args=["check-integrity"])


def _break(statement):
    db.session.execute(statement)
    db.session.commit()


def test_a_consistent_database_passes(app, catalog, waiter, manager):
    _, (order,) = make_ticket(waiter, catalog, ("BURGER", 2), ("COLA", 1))
    order_status.set_order_status(user=manager, order_id=order.id, status="Completed")
    assert check_integrity() == []
    result = _run(app)
    assert result.exit_code == 0 and "All checks passed." in result.output


def test_each_mismatch_is_found_and_fails_the_command(app, catalog, waiter):
    ticket, (first,) = make_ticket(waiter, catalog, ("BURGER", 1))
    _, (second,) = make_ticket(waiter, catalog, ("COLA", 1), name="Table 2")
    _break(update(Counter).where(Counter.name == "orders.New").values(value=Counter.value + 1))
    # Numbers are unique by constraint too; the counter that issues them can still fall back.
    _break(update(Counter).where(Counter.name == "order_number").values(value=1))
    _break(update(Order).where(Order.id == first.id).values(status="Ready"))
    _break(update(OrderEntry).where(OrderEntry.order_id == second.id).values(is_open=False))
    _break(update(TicketItem).where(TicketItem.ticket_id == ticket.id)
           .values(quantity=Decimal(3)))
    problems = "\n".join(check_integrity())
    # The counts follow the stored statuses: one New order left, one Ready.
    assert "Counter orders.New holds 3; there are 1." in problems
    assert "The order-number counter (1) is below the highest number in use (2)." in problems
    assert "is stored as Ready; its cells say New." in problems
    assert "is marked done; its cells say otherwise." in problems
    assert f"Ticket {ticket.id} has 3.000 of BURGER; its orders have 1.000." in problems
    result = _run(app)
    assert result.exit_code == 1
