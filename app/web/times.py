"""Times on pages: in the viewer's time zone (their own setting, else the site's), with the
zone named beside each time. The API keeps UTC (app.api)."""
from datetime import date, datetime, tzinfo

from flask import current_app
from flask_login import current_user
from markupsafe import Markup, escape

from app.core.times import day_start_utc, to_local, zone_named

DATE_TIME = "%Y-%m-%d %H:%M"
TIME = "%H:%M"


def viewer_zone_name() -> str:
    """The IANA name of the zone this request's pages are drawn in: the signed-in person's
    choice, else SITE_TIMEZONE (kiosk screens and signed-out pages too)."""
    own = current_user.time_zone if current_user.is_authenticated else None
    return own if own and zone_named(own) else current_app.config["SITE_TIMEZONE"]


def viewer_zone() -> tzinfo:
    return zone_named(viewer_zone_name())


def local_time(moment: datetime | None, layout: str = DATE_TIME) -> Markup:
    """`moment` (stored UTC) as the viewer reads it, "2026-12-01 14:05 CET", in a <time>
    element that carries the UTC instant for machines and, on hover, for people."""
    if moment is None:
        return Markup("—")
    local = to_local(moment, viewer_zone())
    utc = moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return Markup('<time datetime="{}Z" title="{} UTC">{} {}</time>').format(
        utc, utc.replace("T", " ")[:16], local.strftime(layout), zone_abbreviation(local))


def zone_abbreviation(local: datetime) -> str:
    # Zones without a letter abbreviation give their offset ("-03"); UTC's own says UTC.
    return escape(local.strftime("%Z") or local.strftime("%z"))


def local_day_start(day: date) -> datetime:
    """When `day` begins for the viewer, as stored (naive UTC): the order list's date filters
    mean the viewer's days."""
    return day_start_utc(day, viewer_zone())
