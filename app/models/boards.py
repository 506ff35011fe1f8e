"""Ready boards: the public screens of order numbers, Preparing and Ready, that guests watch."""
from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.catalog import Station
from app.models.columns import utcnow

# The default board, /board: every order. Its name is empty, which no other board's can be
# (names are what follows /board/ in its address), so no named board can pass for it.
DEFAULT_BOARD = ""
DEFAULT_READY_MINUTES = 10

ready_board_stations = Table(
    "ready_board_stations",
    db.metadata,
    Column("board_id", ForeignKey("ready_boards.id", ondelete="CASCADE"), primary_key=True),
    # A station a board names cannot be deleted (app.services.stations), so a board never
    # widens to every order by losing its last station.
    Column("station_id", ForeignKey("stations.id"), primary_key=True, index=True),
)


class ReadyBoard(db.Model):
    """A named ready board: which orders it shows (by station and by order type; neither set:
    every order) and how (first names, chime, minutes a Ready number stays)."""
    __tablename__ = "ready_boards"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(60))
    # Comma-separated order types, in app.core.order_types' spelling; None: every type.
    order_types: Mapped[str | None] = mapped_column(String(60))
    show_first_name: Mapped[bool] = mapped_column(Boolean, default=False)
    chime: Mapped[bool] = mapped_column(Boolean, default=True)
    ready_minutes: Mapped[int] = mapped_column(Integer, default=DEFAULT_READY_MINUTES)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stations: Mapped[list[Station]] = relationship(secondary=ready_board_stations,
                                                   order_by=Station.name, lazy="selectin")

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_BOARD

    @classmethod
    def default(cls) -> "ReadyBoard":
        """The default board as it is until an admin changes it: every order, no names."""
        return cls(name=DEFAULT_BOARD, title="Orders", order_types=None, show_first_name=False,
                   chime=True, ready_minutes=DEFAULT_READY_MINUTES, version=1, stations=[])
