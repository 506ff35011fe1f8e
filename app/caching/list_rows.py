"""The rows of the dashboard's order list, each drawn once per state of its order.

The list is drawn again whenever anything changes (its two-second poll sees the change
counter move), while most of its 50 orders have not changed. As the API keeps each order's JSON
(app.caching.order_documents), each process keeps each row's HTML, keyed by the same state (version,
last save, the stations' version) and by what else a row shows: which row it is (staff or
customer), whether it has a checkbox, the time zone its times are shown in, and the path the app
is mounted at (its links). A page reads its keys first, then loads and draws only
the orders not kept in that state. With a text search (`q`) the page is read whole, as before,
and its rows drawn afresh.
"""
from flask import current_app, request
from markupsafe import Markup

from app.caching.order_documents import DocumentCache
from app.extensions import process_cache
from app.services import orders
from app.web.times import viewer_zone_name

DEFAULT_BUDGET = 4 * 1024 * 1024  # ORDER_ROW_BYTES; a row is about 1 KB
ROW = "orders/_row.html"


def page_rows(*, user, query, search: str, selectable: bool, row: str = ROW
              ) -> tuple[list[Markup], int]:
    """The page's rows as HTML (the template `row`), in order, and the number of orders
    matching in all."""
    if search:
        found, total = orders.list_orders(user=user, query=query, search=search)
        return [Markup(_draw(row, order, selectable)) for order in found], total
    keys, total = orders.list_order_keys(user=user, query=query)
    if not keys:
        return [], total
    cache = _row_cache()
    keyed = [(row[0], (row[1], row[2], row[3], request.script_root)) for row in keys]
    # A manager's rows (with checkboxes) and a reader's, a customer's, and rows with times
    # in different zones are held apart (scope).
    texts = cache.get_or_load(keyed, lambda order: _draw(row, order, selectable),
                              scope=f"{row}@{selectable:d}@{viewer_zone_name()}")
    return [Markup(text) for text in texts], total


def _draw(row: str, order, selectable: bool) -> str:
    # The row's own template with only what it reads: no context processors, no signals.
    template = current_app.jinja_env.get_template(row)
    return template.render(order=order, can_update=selectable, can_process=selectable)


def _row_cache() -> DocumentCache:
    return process_cache(current_app, "order_rows", DocumentCache, "ORDER_ROW_BYTES",
                         DEFAULT_BUDGET)
