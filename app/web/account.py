"""Every signed-in person's own settings: the time zone their pages show times in, and their
home screen (where "/" and signing in lead)."""
from flask import Blueprint, current_app, flash, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import Optional

from app.core.errors import FieldError, Invalid, VersionMismatch
from app.core.times import zone_names
from app.services import user_settings
from app.web.forms import form_errors
from app.web.htmx import redirect, render

bp = Blueprint("account", __name__)


class SettingsForm(FlaskForm):
    # Choices are not checked here: the service names a bad value in its own words.
    time_zone = SelectField("Time zone", validate_choice=False)
    home_screen = SelectField("Home screen", validate_choice=False)
    version = IntegerField(name="_v", validators=[Optional()])


def _form(formdata=True) -> SettingsForm:
    data = {"time_zone": current_user.time_zone or "",
            "home_screen": current_user.home_screen or user_settings.ORDER_LIST,
            "version": current_user.version}
    form = SettingsForm(data=data) if formdata else SettingsForm(formdata=None, data=data)
    site = current_app.config["SITE_TIMEZONE"]
    form.time_zone.choices = [("", f"The site's time zone ({site})"),
                              *((name, name.replace("_", " ")) for name in zone_names())]
    form.home_screen.choices = [(h.value, h.label)
                                for h in user_settings.home_screens(current_user)]
    return form


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings():
    form, errors, status, message = _form(), [], 200, None
    if request.method == "POST":
        try:
            if not form.validate_on_submit():
                raise Invalid(form_errors(form))
            user_settings.update_settings(user=current_user, time_zone=form.time_zone.data,
                                          home_screen=form.home_screen.data,
                                          version=form.version.data)
        except Invalid as refused:
            errors, status = refused.errors or [FieldError("", refused.message)], 422
        except VersionMismatch:
            form, status = _form(formdata=False), 409
            message = ("Your settings were changed in another tab meanwhile; this form now "
                       "shows them. Nothing was saved.")
        else:
            flash("Your settings were saved.")
            return redirect(url_for("account.settings"))
    return render("account/settings.html", status=status, form=form, errors=errors,
                  message=message, home=user_settings.home_screen_of(current_user))


def home_url(user) -> str:
    """The address of `user`'s home screen."""
    home = user_settings.home_screen_of(user)
    if home.kind == user_settings.STATION:
        return url_for("kiosk.station", station_name=home.station)
    if home.kind == user_settings.EXPO:
        return url_for("kiosk.expo")
    return url_for("orders.list_orders")
