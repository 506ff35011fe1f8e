"""Signing in and out of the dashboard (session cookie)."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, request, session, url_for
from flask_login import current_user, login_user, logout_user

from app.core.errors import Unauthenticated
from app.services.users import check_password
from app.web.forms import EmptyForm, SignInForm
from app.web.htmx import redirect, render

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    # Only local paths: an attacker's link must not bounce a user to another site.
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("orders.home")  # the person's home screen


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            user = check_password(form.user_name.data, form.password.data)
        except Unauthenticated as refused:
            error = refused.message
        else:
            session.clear()  # a fresh session on sign-in: no fixation
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    status = 401 if error else (422 if form.errors else 200)
    return render("auth/sign_in.html", form=form, error=error, status=status)


@bp.post("/sign-out")
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))
