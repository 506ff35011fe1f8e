"""Kiosk screens (one full-screen page per station, and the expo screen) and the admin page of
kiosk links. Handlers translate; app.services.kiosk decides who may see and change what."""
import uuid
from functools import wraps

from flask import Blueprint, flash, make_response, request, session, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField

from app.caching.kiosk_cards import age_css, age_text, board_cards
from app.core.errors import FieldError, Forbidden, Invalid
from app.extensions import login_manager
from app.services import kiosk, kiosk_links
from app.services.stations import list_stations
from app.web.auth import end_this_session
from app.web.forms import require_submitted, show_once, take_shown
from app.web.htmx import is_fragment_request, redirect, render

bp = Blueprint("kiosk", __name__)
bp.add_app_template_global(age_text, "card_age")  # the expo screen's cards, drawn whole
bp.add_app_template_global(age_css, "card_age_css")
bp.add_app_template_global(kiosk.guest_allergies, "guest_allergies")
SESSION_KEY = "kiosk_link_id"
# A link opened while a person is signed in waits here (its id, never its secret) for them to
# say whether this browser should become the screen.
PENDING_KEY = "kiosk_link_to_open"
SCREEN_KEY = "screen_id"
EXPO_CHOICE = ""  # station names are never empty, so this can only mean the expo screen


class KioskLinkForm(FlaskForm):
    name = StringField("Name (where the screen is)")
    target = SelectField("Screen", validate_choice=False)


def screen_viewer(board: str | None = None):
    """The signed-in person, else the screen a kiosk link signed in where that link reaches
    (kiosk_links.screen_actor: the station and expo screens, or with `board` that board's
    scope), else None. Forbidden once the link was revoked."""
    if current_user.is_authenticated:
        return current_user._get_current_object()
    if SESSION_KEY in session:
        return kiosk_links.screen_actor(session[SESSION_KEY], board=board)
    return None


def with_viewer(view):
    """Pass the viewer in; without one, the whole screen goes to sign-in, its polls and taps
    too (401 with HX-Redirect, app.web.errors.sign_in_first), as the dashboard's pages do."""
    @wraps(view)
    def guarded(*args, **kwargs):
        viewer = screen_viewer()
        if viewer is None:
            return login_manager.unauthorized()
        return view(viewer, *args, **kwargs)
    return guarded


def open_link(secret: str):
    link = kiosk_links.open_kiosk_link(secret=secret)  # Forbidden for a bad or revoked one
    if current_user.is_authenticated:
        # Becoming a screen signs the person out; a link opened by mistake (or sent to them by
        # someone else) must not do that silently, so ask first.
        session[PENDING_KEY] = link.id
        return redirect(url_for("kiosk.confirm_open"))
    return _become_screen(kiosk_links.get_kiosk_actor(link.id))


def _become_screen(actor: kiosk_links.KioskActor):
    # Whoever was signed in on this browser is signed out (session and remember-me cookie), so
    # a person's session never stays behind on a shared wall screen.
    end_this_session()
    session[SESSION_KEY] = actor.link_id
    session.permanent = True  # the screen's browser may restart; the link should hold
    # The clean URL: the secret must not stay in the address bar or the history.
    if actor.is_board:
        return redirect(url_for("board.screen", name=actor.board_name))
    if actor.target == kiosk_links.EXPO:
        return redirect(url_for("kiosk.expo"))
    return redirect(url_for("kiosk.station", station_name=actor.target))


@bp.route("/open-kiosk-link", methods=["GET", "POST"])
def confirm_open():
    """Ask a signed-in person whether this browser should become the kiosk link's screen."""
    actor = kiosk_links.get_kiosk_actor(session.get(PENDING_KEY))
    if actor is None:
        raise Forbidden("This kiosk link is not valid any more: it was revoked, or was never "
                        "opened in this browser. Open the link again.")
    if request.method == "GET":
        return render("kiosk/confirm_open.html", link=actor, expo=kiosk_links.EXPO)
    require_submitted()
    session.pop(PENDING_KEY, None)
    if request.form.get("choice") == "screen":
        return _become_screen(actor)
    flash("You are still signed in; this browser did not become a kiosk screen.")
    return redirect(url_for("orders.list_orders"))


def _screen_id() -> str:
    """This browser, as one screen: kept in its session (a kiosk link's lasts)."""
    if SCREEN_KEY not in session:
        session[SCREEN_KEY] = uuid.uuid4().hex
    return session[SCREEN_KEY]


def _screen(page: str, fragment: str, viewer, board):
    can_update = kiosk.can_change(viewer, board.target)
    # A station's cards are cached drawn (app.caching.kiosk_cards); the expo's are drawn whole.
    cards = None if board.target == kiosk_links.EXPO else board_cards(board, can_update)
    alarms = kiosk.station_alarms(viewer=viewer) if board.target == kiosk_links.EXPO and \
        not is_fragment_request() else None
    response = render(page, fragment, board=board, cards=cards, can_update=can_update,
                      can_fire=kiosk.can_fire(viewer), alarms=alarms,
                      is_person=not isinstance(viewer, kiosk_links.KioskActor))
    response.headers["Cache-Control"] = "no-store"
    return response


def _unchanged():
    response = make_response("", 204)
    response.vary.add("HX-Request")
    response.headers["Cache-Control"] = "no-store"
    return response


def _after_change(viewer, target: str, change):
    """Run a tap's change; answer the fresh board under htmx, else go back to the screen."""
    require_submitted()
    change()
    if target == kiosk_links.EXPO:
        if is_fragment_request():
            return _screen("kiosk/expo.html", "kiosk/_expo.html", viewer,
                           kiosk.get_expo_board(viewer=viewer))
        return redirect(url_for("kiosk.expo"))
    if is_fragment_request():
        return _screen("kiosk/station.html", "kiosk/_board.html", viewer,
                       kiosk.get_station_board(viewer=viewer, station_name=target))
    return redirect(url_for("kiosk.station", station_name=target))


# --- screens --------------------------------------------------------------------------------

@bp.get("/kiosk")
@with_viewer
def index(viewer):
    if isinstance(viewer, kiosk_links.KioskActor):
        if viewer.target == kiosk_links.EXPO:
            return redirect(url_for("kiosk.expo"))
        return redirect(url_for("kiosk.station", station_name=viewer.target))
    kiosk.require_screen(viewer, kiosk_links.EXPO)
    return render("kiosk/index.html", stations=[s for s in list_stations()
                                                if s.type == "display"])


@bp.get("/kiosk/expo")
def expo():
    if request.args.get("key"):
        return open_link(request.args["key"])
    return _expo_screen()


@with_viewer
def _expo_screen(viewer):
    if is_fragment_request() and kiosk.is_unchanged(viewer=viewer, target=kiosk_links.EXPO,
                                                    version=request.args.get("version")):
        return _unchanged()
    return _screen("kiosk/expo.html", "kiosk/_expo.html", viewer,
                   kiosk.get_expo_board(viewer=viewer))


@bp.get("/station-alarms")
@with_viewer
def station_alarms(viewer):
    """The banner naming stations that fail or that no screen watches; the dashboard and the
    expo poll it. A full page when opened directly."""
    response = render("kiosk/alarms.html", "kiosk/_alarms.html",
                      alarms=kiosk.station_alarms(viewer=viewer))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/kiosk/expo/orders/<order_id>/complete")
@with_viewer
def complete(viewer, order_id):
    return _after_change(viewer, kiosk_links.EXPO, lambda: kiosk.complete_order(
        viewer=viewer, order_id=order_id))


@bp.post("/kiosk/expo/orders/<order_id>/courses/<int:course>/fire")
@with_viewer
def fire(viewer, order_id, course):
    return _after_change(viewer, kiosk_links.EXPO, lambda: kiosk.fire_course(
        viewer=viewer, order_id=order_id, course=course))


@bp.get("/kiosk/<station_name>")
def station(station_name):
    if request.args.get("key"):
        return open_link(request.args["key"])
    return _station_screen(station_name)


@with_viewer
def _station_screen(viewer, station_name):
    # Every drawing and poll says a screen is there (written now and then, not every time).
    kiosk.note_screen(viewer=viewer, station_name=station_name, screen_id=_screen_id())
    # The live poll: no body while nothing changed.
    seen = request.args.get("version") if is_fragment_request() else None
    board = kiosk.get_station_board(viewer=viewer, station_name=station_name, seen_version=seen)
    if board is None:
        return _unchanged()
    return _screen("kiosk/station.html", "kiosk/_board.html", viewer, board)


@bp.post("/kiosk/<station_name>/orders/<order_id>/items/<int:item_id>/advance")
@with_viewer
def advance_item(viewer, station_name, order_id, item_id):
    return _after_change(viewer, station_name, lambda: kiosk.advance_cell(
        viewer=viewer, station_name=station_name, order_id=order_id, item_id=item_id,
        seen=request.form.get("seen")))


@bp.post("/kiosk/<station_name>/orders/<order_id>/advance")
@with_viewer
def advance(viewer, station_name, order_id):
    return _after_change(viewer, station_name, lambda: kiosk.advance_entry(
        viewer=viewer, station_name=station_name, order_id=order_id,
        seen=request.form.get("seen")))


@bp.post("/kiosk/<station_name>/orders/<order_id>/bump")
@with_viewer
def bump(viewer, station_name, order_id):
    return _after_change(viewer, station_name, lambda: kiosk.bump_entry(
        viewer=viewer, station_name=station_name, order_id=order_id))


@bp.post("/kiosk/<station_name>/orders/<order_id>/acknowledge")
@with_viewer
def acknowledge(viewer, station_name, order_id):
    return _after_change(viewer, station_name, lambda: kiosk.acknowledge_void(
        viewer=viewer, station_name=station_name, order_id=order_id))


@bp.post("/kiosk/<station_name>/orders/<order_id>/acknowledge-allergies")
@with_viewer
def acknowledge_allergies(viewer, station_name, order_id):
    return _after_change(viewer, station_name, lambda: kiosk.acknowledge_allergies(
        viewer=viewer, station_name=station_name, order_id=order_id))


@bp.post("/kiosk/<station_name>/recall")
@with_viewer
def recall(viewer, station_name):
    return _after_change(viewer, station_name, lambda: kiosk.recall_entry(
        viewer=viewer, station_name=station_name))


# --- kiosk links (admin) --------------------------------------------------------------------

def _link_form(formdata=True) -> KioskLinkForm:
    form = KioskLinkForm() if formdata else KioskLinkForm(formdata=None)
    form.target.choices = [(s.name, s.name) for s in list_stations() if s.type == "display"]
    form.target.choices.append((EXPO_CHOICE, "Expo (every order, all stations)"))
    return form


def link_url(link, secret: str) -> str:
    if link.is_expo:
        return url_for("kiosk.expo", key=secret, _external=True)
    return url_for("kiosk.station", station_name=link.station.name, key=secret, _external=True)


@bp.route("/admin/kiosk-links", methods=["GET", "POST"])
@login_required
def links():
    links_found = kiosk_links.list_kiosk_links(user=current_user)  # admins only, else 403
    form, errors, status, created = _link_form(), [], 200, None
    if request.method == "POST":
        require_submitted(form)
        try:
            link, secret = kiosk_links.create_kiosk_link(
                user=current_user, name=form.name.data, station_name=form.target.data or None)
        except Invalid as refused:
            errors, status = refused.errors or [FieldError("", refused.message)], 422
        else:
            # Post, redirect, get: a reload shows the list, it does not make another link.
            show_once("kiosk_link", {"target": link.target_name, "url": link_url(link, secret)})
            return redirect(url_for("kiosk.links"))
    elif not is_fragment_request():  # the fragment has no place for it: keep it for the page
        created = take_shown("kiosk_link")
    response = render("kiosk/links.html", "kiosk/_links.html", status=status, form=form,
                      errors=errors, links=links_found, created=created)
    if created:
        response.headers["Cache-Control"] = "no-store"  # the secret must not linger in caches
    return response


@bp.post("/admin/kiosk-links/<int:link_id>/revoke")
@login_required
def revoke_link(link_id):
    require_submitted()
    link = kiosk_links.revoke_kiosk_link(user=current_user, link_id=link_id)
    if is_fragment_request():
        return render("kiosk/links.html", "kiosk/_link_row.html", link=link)
    flash(f"The kiosk link {link.name} was revoked; its screen stops at its next request.")
    return redirect(url_for("kiosk.links"))
