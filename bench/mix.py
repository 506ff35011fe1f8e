"""The cold list mix: GET /api/orders queries as tills, screens and integrations ask them, drawn
from a seeded RNG so that nearly every request of a run is asked once, and every run asks the
same ones (its numbers stay comparable).

A query is one filter, sometimes two (a station's open orders: a status and an endpointName),
a page size of 20 to 100, often a sort, sometimes a later page. The weights say how often each
kind comes; the values inside a kind (which status, which number, which table) vary freely, so
the server's per-query caches rarely see a query twice.
"""
import random
from urllib.parse import quote

STATUSES = ("New", "Processing", "Ready", "Completed", "Cancelled")
OPEN = STATUSES[:3]
# The open statuses are what screens and tills mostly ask for; the closed ones for reports.
STATUS_WEIGHTS = (4, 4, 3, 2, 1)
STATIONS = ("Kitchen", "Bar", "Pass", "Print room", "Packing")
# Newest or oldest first, by number or by time. A list of open orders may also be sorted by
# status (the work in hand, stage by stage); a year of orders is not, by a kitchen.
SORTS = (None, "-number", "number", "-createdDateUtc", "createdDateUtc")
OPEN_SORTS = SORTS + ("status,-number",)
TABLES = 40  # the seed names tickets "Table 1" to "Table 40"
RECENT = 20_000  # "orders since number N" asks from somewhere in the last this many orders
LAST_PAGE = 20  # a later page is one of the next twenty


def _status(rng: random.Random) -> str:
    return rng.choices(STATUSES, STATUS_WEIGHTS)[0]


def _sorts(*statuses: str) -> tuple:
    return OPEN_SORTS if set(statuses) <= set(OPEN) else SORTS


# Each kind: (rng, top) -> (parameters, the sorts that fit).

def _status_filter(rng, top):
    status = _status(rng)
    return [("status", status)], _sorts(status)


def _status_in(rng, top):
    first = _status(rng)
    second = rng.choice([s for s in STATUSES if s != first])
    return [("status", f"in:{first},{second}")], _sorts(first, second)


def _unprocessed(rng, top):
    """What is still to process; half the time from the number an integration got to."""
    params = [("isProcessed", "false")]
    if rng.random() < 0.5:
        params += _since(rng, top)[0]
    return params, SORTS


def _since(rng, top):
    return [("number", f"gt:{max(0, top - rng.randint(1, RECENT))}")], SORTS


def _table(rng, top):
    return [("ticketName", f"contains:{rng.randint(1, TABLES)}")], SORTS


def _station(rng, top):
    return [("endpointName", rng.choice(STATIONS))], SORTS


def _station_open(rng, top):
    """A station's open orders, as a screen that is not a kiosk asks them."""
    statuses = rng.sample(OPEN, rng.randint(1, 3))
    return [("endpointName", rng.choice(STATIONS)), ("status", "in:" + ",".join(statuses))], \
        OPEN_SORTS


FILTERS = (  # (weight, kind)
    (4, _status_filter),
    (3, _status_in),
    (2, _unprocessed),
    (3, _since),
    (2, _table),
    (2, _station),
    (3, _station_open),
)


def query(rng: random.Random, top: int) -> str:
    """One query string; `top` is the newest order number when the run started."""
    kind = rng.choices([k for _, k in FILTERS], [w for w, _ in FILTERS])[0]
    params, sorts = kind(rng, top)
    take = rng.randint(20, 100)
    params.append(("$take", str(take)))
    sort = rng.choice(sorts)
    if sort:
        params.append(("$sort", sort))
    if rng.random() < 0.3:
        params.append(("$skip", str(take * rng.randint(1, LAST_PAGE))))
    return "&".join(f"{name}={quote(value, safe=':,-')}" for name, value in params)


class Mix:
    """Query `seq` of client `index`: the same for every run with the same `seed`."""

    def __init__(self, seed: str, top: int):
        self.seed, self.top = seed, top

    def query(self, index: int, seq: int) -> str:
        return query(random.Random(f"{self.seed}:{index}:{seq}"), self.top)
