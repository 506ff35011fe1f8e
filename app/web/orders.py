"""The order list and the order page of the dashboard: the floor's view for staff, and a
customer's view of their own orders for users without any staff right."""
from datetime import date, timedelta

from flask import Blueprint, flash, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from app.caching import list_rows
from app.core import allergens as A
from app.core import order_types as OT
from app.core import rights as R
from app.core import status as S
from app.core.errors import Conflict, FieldError, Forbidden, Invalid, VersionMismatch
from app.core.query import int_range, parse_query
from app.services import (
    courses,
    dispatch,
    history,
    kiosk,
    order_rush,
    order_status,
    orders,
    processing,
    stations,
)
from app.web.account import home_url
from app.web.conditional import page_etag, tagged_page, unchanged_page
from app.web.forms import EmptyForm, require_submitted
from app.web.htmx import is_fragment_request, push_url, redirect, render
from app.web.order_controls import item_key, order_controls, station_key
from app.web.times import local_day_start

bp = Blueprint("orders", __name__)
# How pages, cards and rows name an order type ("Takeout").
bp.add_app_template_global(OT.LABELS, "order_type_labels")
bp.add_app_template_global(lambda codes: ", ".join(A.labels(codes)), "allergen_names")
PAGE_SIZE = 50
TEXT_FILTERS = {"ticket": "ticketName", "device": "deviceName", "user": "userUserName"}
YES_NO_FILTERS = {"processed": "isProcessed", "processable": "isProcessable", "void": "isVoid",
                  "rush": "isRush"}
SORTABLE = ("number", "status", "ticketName", "deviceName", "userUserName", "orderTotal",
            "createdDateUtc")
# The filter form's labels, for a problem the query parser finds that the form's own checks
# (filter_errors) did not: people see the form, not the API's member names.
LABELS = {"status": "Status", "endpointName": "Station", "number": "Number",
          "ticketName": "Ticket", "deviceName": "Device", "userUserName": "User",
          "isProcessed": "Processed", "isProcessable": "Processable", "isVoid": "Void",
          "isRush": "Rush", "orderType": "Type",
          "createdDateUtc": "From / To", "$sort": "Sort", "$skip": "Page"}
CUSTOMER_ROW = "orders/_customer_row.html"
STALE = ("Someone else changed this order while you were looking at it. This is its current "
         "state; nothing was changed. Check it and try again.")


def _clean(text: str) -> str:
    # `;` and `,` separate NData operations and lists; in free text they are just noise.
    return text.replace(";", " ").replace(",", " ").strip()


def filters_from(args) -> dict:
    """The filter form's state, as given in the URL (so it can be shared and bookmarked)."""
    keys = ("q", "status", "station", "type", "number", "from", "to", "sort", "page",
            *TEXT_FILTERS, *YES_NO_FILTERS)
    return {key: args.get(key, "").strip() for key in keys}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# The highest order number a filter may name: the query parser's bound for the member.
NUMBER_MAX = int_range(next(m for m in orders.ORDER_QUERY.members if m.name == "number"))[1]


def filter_errors(filters: dict) -> list[FieldError]:
    """What is wrong with the filters, in the form's words (its labels, its formats)."""
    errors = []
    if filters["status"] and S.canonical(filters["status"]) is None:
        errors.append(FieldError("status", f"Status: choose one of {', '.join(S.ALL)}."))
    if filters["type"] and OT.canonical(filters["type"]) is None:
        errors.append(FieldError("type", "Type: choose one of "
                                         f"{', '.join(OT.LABELS.values())}."))
    if filters["number"] and not (filters["number"].isascii() and filters["number"].isdigit()):
        errors.append(FieldError("number", "Number: enter an order number, such as 12."))
    elif filters["number"] and int(filters["number"]) > NUMBER_MAX:
        errors.append(FieldError("number", f"Number: order numbers go up to {NUMBER_MAX}."))
    for field, label in (("from", "From"), ("to", "To")):
        if filters[field] and _day(filters[field]) is None:
            errors.append(FieldError(field, f"{label}: enter a date as year-month-day, such "
                                            "as 2026-12-01."))
    sorts = {option for key in SORTABLE for option in (key, f"{key}:desc")}
    if filters["sort"] and filters["sort"] not in sorts:
        errors.append(FieldError("sort", "Sort: choose a column heading to sort by."))
    return errors


def ndata_from(filters: dict) -> MultiDict:
    """Translate the form into NData, so the dashboard filters exactly as the API does. The
    dates are the viewer's days, from midnight to midnight in their time zone."""
    args = MultiDict()
    if filters["status"]:
        args.add("status", filters["status"])
    if filters["station"]:
        args.add("endpointName", _clean(filters["station"]))
    if filters["type"]:
        args.add("orderType", filters["type"])
    if filters["number"]:
        args.add("number", filters["number"])
    for field, member in TEXT_FILTERS.items():
        if _clean(filters[field]):
            args.add(member, "contains:" + _clean(filters[field]))
    for field, member in YES_NO_FILTERS.items():
        if filters[field] in ("yes", "no"):
            args.add(member, "true" if filters[field] == "yes" else "false")
    for field, op in (("from", "gte"), ("to", "lt")):
        day = _day(filters[field]) if filters[field] else None
        if day is not None:
            start = local_day_start(day + timedelta(days=op == "lt"))
            args.add("createdDateUtc", f"{op}:{start.isoformat()}Z")
    if filters["sort"]:
        args.add("$sort", filters["sort"])
    args.add("$skip", str((_page_number(filters) - 1) * PAGE_SIZE))
    args.add("$take", str(PAGE_SIZE))
    return args


def _page_number(filters: dict) -> int:
    return int(filters["page"]) if filters["page"].isdigit() and int(filters["page"]) > 0 else 1


def url_with(filters: dict, **changes) -> str:
    merged = {k: v for k, v in {**filters, **changes}.items() if v not in ("", None)}
    return url_for("orders.list_orders", **merged)


@bp.get("/")
def home():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("orders.list_orders"))


@bp.get("/orders")
@login_required
def list_orders():
    filters = filters_from(request.args)
    versions = history.versions()
    version = versions[0]
    if request.args.get("version") == str(version) and is_fragment_request():
        return "", 204  # the live poll: nothing changed since this page was drawn
    etag = page_etag(versions)
    unchanged = unchanged_page(etag)
    if unchanged is not None:
        return unchanged
    rows, total, counts = [], 0, {}
    abilities = _abilities()
    customer = R.is_customer(current_user.rights)
    errors = filter_errors(filters)
    try:
        if errors:
            raise Invalid(errors)
        query = parse_query(ndata_from(filters), orders.ORDER_QUERY)
        rows, total = list_rows.page_rows(
            user=current_user, query=query, search=filters["q"],
            selectable=abilities["can_update"] or abilities["can_process"],
            **({"row": CUSTOMER_ROW} if customer else {}))
        if not customer:
            counts = orders.count_by_status(user=current_user, query=query,
                                            search=filters["q"])
    except Invalid as invalid:
        errors = [e if e in errors else FieldError(
            e.member_name, f"{LABELS.get(e.member_name, e.member_name)}: {e.message}")
            for e in invalid.errors]
    page, fragment = (("orders/customer_list.html", "orders/_customer_results.html")
                      if customer else ("orders/list.html", "orders/_results.html"))
    every_station = [] if customer else stations.list_stations()
    response = render(page, fragment, status=422 if errors else 200,
                      filters=filters, errors=errors, rows=rows, total=total, counts=counts,
                      page_number=_page_number(filters), pages=max(1, -(-total // PAGE_SIZE)),
                      version=version, url_with=url_with, statuses=S.ALL, sortable=SORTABLE,
                      order_types=OT.LABELS,
                      stations=[s.name for s in every_station],
                      alarms=_alarms(customer, every_station), form=EmptyForm(), **abilities)
    # The address bar keeps only the filters in use: a short link to share, and Back works.
    return tagged_page(push_url(response, url_with(filters)), etag)


def _alarms(customer: bool, every_station: list):
    """The station alarm banner's stations, for those who may see the expo; None: no banner.
    Fragments leave it out: the banner polls on its own."""
    if customer or is_fragment_request() or not kiosk.sees_alarms(current_user):
        return None
    return kiosk.station_alarms(viewer=current_user, stations=every_station)


def _abilities() -> dict:
    rights = current_user.rights
    return {"can_update": R.has_right(rights, R.ORDER_UPDATE),
            "can_process": R.has_right(rights, R.ORDER_PROCESS),
            "can_delete": R.has_right(rights, R.ORDER_DELETE),
            "sees_all": R.sees_all_orders(rights)}


@bp.post("/orders/batch")
@login_required
def batch():
    """One button for the selected rows: process them, or set their status. Cancelling asks
    first (Cancelled is final): the answer is a confirmation naming the orders, whose button
    posts the same again with `confirmed`."""
    form = EmptyForm()
    require_submitted(form)
    ids = request.form.getlist("ids")
    action = request.form.get("action", "")
    back = request.referrer or url_for("orders.list_orders")
    if not ids:
        raise Invalid([], "Select at least one order first.")
    if action == "process":
        outcomes = processing.process_each(user=current_user, order_ids=ids)
    elif action == f"status:{S.CANCELLED}" and request.form.get("confirmed") != "yes":
        if not _abilities()["can_update"]:
            raise Forbidden("Changing a status needs the orderUpdate right.")
        return render("orders/batch_confirm.html", "orders/_batch_confirm.html", action=action,
                      numbers=orders.visible_numbers(user=current_user, order_ids=ids),
                      back=back)
    elif action.startswith("status:"):
        outcomes = order_status.set_statuses(user=current_user, order_ids=ids,
                                             status=action.removeprefix("status:"))
    else:
        raise Invalid([], "Choose what to do with the selected orders.")
    response = render("orders/batch.html", "orders/_batch_report.html", outcomes=outcomes,
                      action=action, back=back)
    response.headers["HX-Trigger"] = "orders-changed"
    return response


def _order_page(order_id: str, *, message: str | None = None, message_at: str = "order",
                status: int = 200, version: int | None = None):
    """The order's page (or its fragment); `message` is drawn beside the controls of the
    level `message_at` names, where the person just pressed a button."""
    order = orders.get_order(user=current_user, order_id=order_id, include_history=True)
    version = history.versions()[0] if version is None else version
    if R.is_customer(current_user.rights):
        return render("orders/customer_page.html", "orders/_customer_detail.html",
                      status=status, order=order, version=version)
    return render("orders/page.html", "orders/_detail.html", status=status, order=order,
                  message=message, message_at=message_at, version=version,
                  controls=order_controls(order), courses=courses.course_states(order),
                  jobs=dispatch.jobs_by_entry(order), reprint_refusal=dispatch.reprint_refusal,
                  **_abilities())


@bp.get("/orders/<order_id>")
@login_required
def order_page(order_id):
    versions = history.versions()
    if request.args.get("version") == str(versions[0]) and is_fragment_request():
        orders.get_order(user=current_user, order_id=order_id)  # still there, still visible
        return "", 204
    # Visible or not is decided before any 304: NotFound for another's order.
    etag = page_etag(versions, orders.visible_order_version(user=current_user,
                                                            order_id=order_id))
    unchanged = unchanged_page(etag)
    if unchanged is not None:
        return unchanged
    return tagged_page(_order_page(order_id, version=versions[0]), etag)


def _change(order_id: str, message_at: str, change):
    """Run a status change from a form; a stale page or refused move shows the fresh order,
    with the reason beside the control that was pressed."""
    form = EmptyForm()
    require_submitted(form)
    version = request.form.get("_v", "")
    try:
        change(version=int(version) if version.isdigit() else None)
    except VersionMismatch:
        return _order_page(order_id, status=409, message=STALE, message_at=message_at)
    except Conflict as refused:
        return _order_page(order_id, status=409, message=refused.message,
                           message_at=message_at)
    if is_fragment_request():
        return _order_page(order_id)
    flash("Saved.")
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.post("/orders/<order_id>/status")
@login_required
def set_order_status(order_id):
    return _change(order_id, "order", lambda version: order_status.set_order_status(
        user=current_user, order_id=order_id, status=request.form.get("status"),
        version=version))


@bp.post("/orders/<order_id>/rush")
@login_required
def set_order_rush(order_id):
    """Mark the order rush or clear the mark (`isRush` = true or false), as the API does."""
    wanted = request.form.get("isRush", "").strip().lower()
    if wanted not in ("true", "false"):
        raise Invalid([FieldError("isRush", "Rush: say true or false.")])
    return _change(order_id, "order", lambda version: order_rush.set_order_rush(
        user=current_user, order_id=order_id, is_rush=wanted == "true", version=version))


@bp.post("/orders/<order_id>/items/<int:item_id>/status")
@login_required
def set_item_status(order_id, item_id):
    return _change(order_id, item_key(item_id), lambda version: order_status.set_item_status(
        user=current_user, order_id=order_id, item_id=item_id,
        status=request.form.get("status"), version=version))


@bp.post("/orders/<order_id>/stations/<station_name>/status")
@login_required
def set_station_status(order_id, station_name):
    return _change(order_id, station_key(station_name),
                   lambda version: order_status.set_entry_status(
                       user=current_user, order_id=order_id, station_name=station_name,
                       status=request.form.get("status"), version=version))


@bp.post("/orders/<order_id>/courses/<int:course>/fire")
@login_required
def fire_course(order_id, course):
    return _change(order_id, "courses", lambda version: courses.fire_course(
        user=current_user, order_id=order_id, course=course, version=version))


@bp.get("/orders/<order_id>/cancel")
@login_required
def confirm_cancel(order_id):
    """Cancelling asks first: Cancelled is final. This page is the question without
    JavaScript (htmx asks with a dialog); its button posts to the level's status form.
    `?item=<n>` or `?station=<name>` cancels that part only."""
    if not _abilities()["can_update"]:
        raise Forbidden("Changing a status needs the orderUpdate right.")
    order = orders.get_order(user=current_user, order_id=order_id)
    controls = order_controls(order)
    item_no, station = request.args.get("item", type=int), request.args.get("station")
    if item_no is not None:
        item = next((i for i in order.items if i.item_no == item_no), None)
        level = controls.items.get(item.id) if item else None
    elif station is not None:
        entry = next((e for e in order.entries if e.station.name == station), None)
        level = controls.stations.get(entry.id) if entry else None
    else:
        level = controls.order
    if level is None:
        raise Invalid([], "The order has no such item or station.")
    if not level.can_cancel:
        raise Conflict(f"{level.subject[:1].upper()}{level.subject[1:]} is cancelled already; "
                       "Cancelled is final.")
    return render("orders/cancel.html", order=order, level=level)


@bp.post("/orders/<order_id>/process")
@login_required
def process_order(order_id):
    return _change(order_id, "order", lambda version: processing.process_orders(
        user=current_user, order_ids=[orders.get_order(user=current_user,
                                                       order_id=order_id).id]))


@bp.post("/orders/<order_id>/stations/<station_name>/reprint")
@login_required
def reprint(order_id, station_name):
    require_submitted(EmptyForm())
    try:
        dispatch.reprint(user=current_user, order_id=order_id, station_name=station_name)
    except Conflict as refused:
        return _order_page(order_id, status=409, message=refused.message,
                           message_at=station_key(station_name))
    if is_fragment_request():
        return _order_page(order_id)
    flash(f"Reprint queued for {station_name}.")
    return redirect(url_for("orders.order_page", order_id=order_id))


@bp.route("/orders/<order_id>/delete", methods=["GET", "POST"])
@login_required
def delete_order(order_id):
    order = orders.get_order(user=current_user, order_id=order_id)
    form = EmptyForm()
    if request.method == "POST":
        require_submitted(form)
        orders.delete_order(user=current_user, order_id=order_id)
        flash(f"Order {order.number} was deleted.")
        return redirect(url_for("orders.list_orders"))
    if not _abilities()["can_delete"]:
        raise Forbidden("Deleting orders needs the orderDelete right.")
    return render("orders/delete.html", order=order, form=form)
