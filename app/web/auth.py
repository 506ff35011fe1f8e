"""Signing in and out of the dashboard (session cookie, and the remember-me cookie on request).

What a session speaks for is decided in app.services.users.load_session_user: the user and the
session version it was signed in at. A sign-in lasts SESSION_LIFETIME from the moment it was
made; after that the session ends, and a remember-me cookie (REMEMBER_COOKIE_DURATION) signs the
browser in again if it has one.
"""
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, request, session, url_for
from flask_login import (
    COOKIE_NAME,
    current_user,
    login_required,
    login_user,
    logout_user,
    user_loaded_from_cookie,
)

from app.core.errors import Unauthenticated
from app.services import users
from app.web.forms import EmptyForm, SignInForm, require_submitted
from app.web.htmx import redirect, render

bp = Blueprint("auth", __name__)
SIGNED_IN_AT = "signed_in_at"  # session key: when this browser's sign-in was made (epoch s)
NEXT_MAX_LENGTH = 2000


def safe_next(target: str | None) -> str:
    """Where to go after signing in: `target` when it is a path of this site, else the
    person's home screen ("/"). The one place that decides it; its answer goes into Location
    and HX-Location.

    Browsers read a backslash as a slash and drop tabs and line breaks from URLs, so
    `/\\evil.example` and `/<tab>/evil.example` would both lead to another site: only a path that
    starts with one slash and holds no backslash, whitespace or control character passes.
    """
    if (isinstance(target, str) and 0 < len(target) <= NEXT_MAX_LENGTH
            and target.startswith("/") and not target.startswith("//")
            and "\\" not in target
            and not any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("orders.home")  # the person's home screen


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = users.check_password(form.user_name.data, form.password.data)
        except Unauthenticated as refused:
            error = refused.message
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user, remember=form.remember.data)
            session[SIGNED_IN_AT] = int(time.time())
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else (422 if form.errors else 200)
    return render("auth/sign_in.html", form=form, error=error, status=status)


@bp.post("/sign-out")
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        end_this_session()
        flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))


@bp.post("/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    require_submitted()
    users.end_all_sessions(user=current_user)
    end_this_session()
    flash("You are signed out on every browser and device.")
    return redirect(url_for("auth.sign_in"))


def end_this_session() -> None:
    """Sign this browser out: its session goes whole, and its remember-me cookie is deleted.

    Order matters: logout_user() leaves a note in the session for Flask-Login to delete the
    remember-me cookie at the end of the request, so the session is cleared before it, not
    after (clearing it after dropped the note, and the cookie signed the browser in again).
    The user is loaded first, while the session still names them.
    """
    current_user.is_authenticated  # noqa: B018  (loading the user is the point)
    session.clear()
    logout_user()


def keep_this_session(user) -> None:
    """After a change of the person's own that ended all their sessions (a new password), sign
    this browser in again at the new session version, with a new remember-me cookie if it had
    one. The sign-in keeps its start, so its lifetime is not extended."""
    cookie = current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME)
    login_user(user, remember=cookie in request.cookies)


@bp.before_app_request
def end_expired_sign_in():
    """A sign-in older than SESSION_LIFETIME ends here; the remember-me cookie, if any, then
    signs the browser in afresh (and starts the clock again, below)."""
    started = session.get(SIGNED_IN_AT)
    lifetime = current_app.config["SESSION_LIFETIME"].total_seconds()
    if started is not None and not 0 <= time.time() - started <= lifetime:
        session.clear()


@user_loaded_from_cookie.connect
def _note_sign_in_from_cookie(sender, user):
    session[SIGNED_IN_AT] = int(time.time())
