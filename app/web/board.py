"""Ready boards: the public screen (/board, /board/<name>) and the admin pages that make boards
and their links. Handlers translate; app.services.boards decides what a board shows and
app.services.kiosk_links who may look at it."""
from flask import Blueprint, flash, make_response, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from app.core import order_types as OT
from app.core.errors import Invalid, VersionMismatch
from app.extensions import login_manager
from app.models import DEFAULT_BOARD
from app.services import boards, kiosk_links
from app.services.stations import list_stations
from app.web.admin import STALE, CheckboxesField, admin_required, attempt
from app.web.forms import require_submitted, show_once, take_shown
from app.web.htmx import is_fragment_request, redirect, render
from app.web.kiosk import open_link, screen_viewer

bp = Blueprint("board", __name__)
HIGHLIGHT_SECONDS = 12  # how long a number that just turned Ready stands out


class BoardForm(FlaskForm):
    name = StringField("Name")
    title = StringField("Title")
    station_names = CheckboxesField("Only orders for these stations")
    order_types = CheckboxesField("Only orders of these types",
                                  choices=[SelectChoice(t, OT.LABELS[t]) for t in OT.ALL])
    show_first_name = BooleanField("Show first names beside the numbers")
    chime = BooleanField("Chime when a number is ready", default=True)
    ready_minutes = IntegerField("Minutes a Ready number stays", default=10,
                                 validators=[Optional()])
    version = IntegerField(name="_v", validators=[Optional()])


class BoardLinkForm(FlaskForm):
    name = StringField("Name (where the screen is)")


# --- the screen ----------------------------------------------------------------------------

@bp.get("/board", defaults={"name": DEFAULT_BOARD})
@bp.get("/board/<name>")
def screen(name):
    if request.args.get("key"):
        return open_link(request.args["key"])
    name = name.lower()
    viewer = screen_viewer(board=kiosk_links.board_scope(name))
    if viewer is None:
        # No one signed in, or a link for another screen: as for any visitor.
        return login_manager.unauthorized()
    seen = request.args.get("version") if is_fragment_request() else None
    shown = boards.get_ready_board(viewer=viewer, name=name, seen_version=seen)
    if shown is None:  # the live poll: nothing changed
        response = make_response("", 204)
        response.vary.add("HX-Request")
    else:
        response = render("board/screen.html", "board/_columns.html", screen=shown,
                          highlight_seconds=HIGHLIGHT_SECONDS,
                          is_person=not isinstance(viewer, kiosk_links.KioskActor))
    response.headers["Cache-Control"] = "no-store"
    return response


# --- admin: boards and their links -------------------------------------------------------

def _fields(form: BoardForm) -> boards.BoardFields:
    ticked = form.order_types.data or []
    return boards.BoardFields(
        title=form.title.data or "", station_names=form.station_names.data or [],
        # Every type ticked is the same as none: no limit.
        order_types=[] if set(ticked) == set(OT.ALL) else ticked,
        show_first_name=form.show_first_name.data, chime=form.chime.data,
        ready_minutes=form.ready_minutes.data)


def _form(board=None, formdata=True) -> BoardForm:
    data = {} if board is None else {
        "name": board.name, "title": board.title,
        "station_names": [s.name for s in board.stations],
        "order_types": list(OT.station_types({OT.SETTING: board.order_types})
                            if board.order_types else ()),
        "show_first_name": board.show_first_name, "chime": board.chime,
        "ready_minutes": board.ready_minutes, "version": board.version}
    form = BoardForm(data=data) if formdata else BoardForm(formdata=None, data=data)
    form.station_names.choices = [s.name for s in list_stations()]
    return form


@bp.route("/admin/boards", methods=["GET", "POST"])
@admin_required
def boards_page():
    form, errors, status = _form(), [], 200
    if request.method == "POST":
        created, errors, status = attempt(form, lambda: boards.create_board(
            user=current_user, name=form.name.data, fields=_fields(form)))
        if created:
            flash(f"The ready board {created.title} was created; make it a link to open it "
                  "on a screen.")
            return redirect(url_for("board.edit", name=created.name))
    return render("board/boards.html", status=status, form=form, errors=errors,
                  boards=boards.list_boards(user=current_user))


def _edit_page(board, *, form=None, errors=(), status=200, message=None, created=None):
    links = kiosk_links.list_kiosk_links(user=current_user, board_id=board.id) \
        if board.id is not None else []
    response = render("board/edit.html", status=status, board=board,
                      form=form or _form(board), errors=errors, message=message,
                      link_form=BoardLinkForm(), links=links, created=created)
    if created:
        response.headers["Cache-Control"] = "no-store"  # the secret must not linger in caches
    return response


@bp.route("/admin/boards/default", methods=["GET", "POST"], defaults={"name": DEFAULT_BOARD})
@bp.route("/admin/boards/<name>", methods=["GET", "POST"])
@admin_required
def edit(name):
    board = boards.get_board(name)
    if request.method == "GET":
        return _edit_page(board, created=take_shown("board_link"))
    form = _form(board)
    try:
        saved, errors, status = attempt(form, lambda: boards.update_board(
            user=current_user, name=board.name, fields=_fields(form),
            version=form.version.data))
    except VersionMismatch:
        board = boards.get_board(name)
        return _edit_page(board, form=_form(board, formdata=False), status=409,
                          message=STALE.format(what=f"The board {board.title}"))
    if saved:
        flash(f"The ready board {saved.title} was saved; its screens show it at once.")
        return redirect(url_for("board.edit", name=saved.name))
    return _edit_page(board, form=form, errors=errors, status=status)


@bp.post("/admin/boards/default/links", defaults={"name": DEFAULT_BOARD})
@bp.post("/admin/boards/<name>/links")
@admin_required
def make_link(name):
    board = boards.get_board(name)
    form = BoardLinkForm()
    require_submitted(form)
    try:
        link, secret = kiosk_links.create_kiosk_link(
            user=current_user, station_name=None, board_name=board.name, name=form.name.data)
    except Invalid as refused:
        return _edit_page(board, errors=refused.errors, status=422)
    # Post, redirect, get: a reload shows the page, it does not make another link.
    show_once("board_link", {"name": link.name, "url": url_for(
        "board.screen", name=board.name, key=secret, _external=True)})
    return redirect(url_for("board.edit", name=board.name))


@bp.post("/admin/boards/default/links/<int:link_id>/revoke", defaults={"name": DEFAULT_BOARD})
@bp.post("/admin/boards/<name>/links/<int:link_id>/revoke")
@admin_required
def revoke_link(name, link_id):
    require_submitted()
    link = kiosk_links.revoke_kiosk_link(user=current_user, link_id=link_id)
    flash(f"The board link {link.name} was revoked; its screen stops at its next request.")
    return redirect(url_for("board.edit", name=name))
