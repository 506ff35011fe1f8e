"""A menu served in courses, for the tests of courses that fire (app/services/courses.py).

Kitchen holds courses (its setting courseFiring is "held"), Bar makes everything at once. Soup
is the first course, Steak and Salad the second (Steak takes 15 minutes, Salad 5), Cake the
third; Wine has no course, and Tart is a third course made at the Bar alone.
"""
from decimal import Decimal

from app.extensions import db
from app.models import Device
from app.services import products, stations
from app.services.tickets import LineInput, create_ticket

MENU = (  # code, name, course, prep seconds, stations
    ("SOUP", "Soup", 1, 300, ["Kitchen"]),
    ("STEAK", "Steak", 2, 900, ["Kitchen"]),
    ("SALAD", "Salad", 2, 300, ["Kitchen"]),
    ("CAKE", "Cake", 3, None, ["Kitchen"]),
    ("WINE", "Wine", None, 60, ["Bar"]),
    ("TART", "Tart", 3, None, ["Bar"]),
)


def set_up_menu(*, held: bool = True, auto_fire: bool = False) -> Device:
    settings = {"courseFiring": "held" if held else "together"}
    if auto_fire:
        settings["autoFire"] = "true"
    stations.create_station(name="Kitchen", settings=settings)
    stations.create_station(name="Bar")
    for code, name, course, prep, where in MENU:
        products.create_product(code=code, name=name, price=Decimal(10), station_names=where,
                                course=course, prep_seconds=prep)
    device = Device(name="POS-2")
    db.session.add(device)
    db.session.commit()
    return device


def order_courses(user, device, *codes, name="Table 5"):
    """A ticket with one of each product code; answers its one order."""
    _, (order,) = create_ticket(user=user, device=device, name=name,
                                lines=[LineInput(code, Decimal(1)) for code in codes])
    return order


def item(order, code):
    return next(i for i in order.items if i.product_code == code)
