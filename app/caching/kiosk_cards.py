"""A station board's cards, each drawn once per state of its order.

A board is drawn again after every change anywhere (its poll sees the change counter move),
while most of its cards have not changed: drawing one was about 0.3 ms, most of a board's time.
As the dashboard keeps its rows (app.caching.list_rows), each process keeps each card's HTML,
keyed by what the card shows: the order's version, the card's status, its lines' statuses, when
it reached the station, the void orders it is linked to, the station, whether the screen may
change it, and the path the app is mounted at (its forms' addresses). What moves without the
order changing is left in the kept text as a mark and filled in at each drawing: the card's
place (its number key), its age and age colour (the screen ticks them on by itself after), and
the page's CSRF token.
"""
from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from app.caching.order_documents import DocumentCache
from app.extensions import process_cache

DEFAULT_BUDGET = 2 * 1024 * 1024  # KIOSK_CARD_BYTES; a card is about 2 KB
CARD = "kiosk/_card.html"
# Marks no card can hold otherwise: what the card shows of its order is escaped, so "<!--"
# never comes from it.
INDEX, AGE, AGE_CSS, TOKEN = (Markup(f"<!--card:{name}-->")
                              for name in ("index", "age", "age-css", "token"))


def age_text(seconds: int) -> str:
    """How long a card has waited, as the screen shows it: 4:07, or 1h05 past the hour."""
    seconds = max(seconds, 0)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


def age_css(seconds: int, board) -> str:
    """The card's colour class by its age against the station's warning and late minutes."""
    minutes = seconds // 60
    if minutes >= board.late_minutes:
        return "age-late"
    return "age-warn" if minutes >= board.warn_minutes else "age-fresh"


def board_cards(board, can_update: bool) -> list[Markup]:
    """The HTML of each card of `board`, in order."""
    cache = process_cache(current_app, "kiosk_cards", DocumentCache, "KIOSK_CARD_BYTES",
                          DEFAULT_BUDGET)
    # Held per order and screen: an order routed to two stations shows on both, and the two
    # screens, polling the same process, must not push each other's card out.
    screen = f"@{board.target}@{can_update:d}"
    keyed = [(card.order.id + screen, (card.order.version, card.status, card.since,
                                       tuple((line.item.id, line.status, line.held,
                                              line.waiting) for line in card.lines),
                                       card.voids, card.voided_by, card.for_station,
                                       card.allergies_acknowledged, request.script_root))
             for card in board.cards]
    texts = cache.get_many(keyed)
    token = generate_csrf()
    drawn = []
    for index, (card, text, (held_as, key)) in enumerate(zip(board.cards, texts, keyed),
                                                         start=1):
        if text is None:
            text = _draw(card, board, can_update, token)
            cache.put(held_as, key, text)
        seconds = int((board.now - card.since).total_seconds())
        drawn.append(Markup(text.replace(INDEX, str(index)).replace(AGE, age_text(seconds))
                            .replace(AGE_CSS, age_css(seconds, board)).replace(TOKEN, token)))
    return drawn


def _draw(card, board, can_update: bool, token: str) -> str:
    template = current_app.jinja_env.get_template(CARD)
    text = template.render(card=card, board=board, can_update=can_update, index=INDEX,
                           age_text=AGE, age_css=AGE_CSS)
    return text.replace(token, TOKEN) if token else text
