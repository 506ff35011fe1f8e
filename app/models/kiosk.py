"""Kiosk links: how a screen on the kitchen wall signs in without a person's password."""
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.boards import ReadyBoard
from app.models.catalog import Station
from app.models.columns import utcnow


class KioskLink(db.Model):
    """A revocable secret that lets one screen view and bump one station (or the expo screen),
    or show one ready board.

    Only a SHA-256 of the secret is stored. The station or board is held by id, so renaming it
    keeps its links working; deleting it deletes them.
    """
    __tablename__ = "kiosk_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Neither a station nor a board: the link is for the expo screen.
    station_id: Mapped[int | None] = mapped_column(
        ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    board_id: Mapped[int | None] = mapped_column(
        ForeignKey("ready_boards.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    station: Mapped[Station | None] = relationship(lazy="joined")
    board: Mapped[ReadyBoard | None] = relationship(lazy="joined")

    @property
    def is_expo(self) -> bool:
        return self.station_id is None and self.board_id is None

    @property
    def is_board(self) -> bool:
        return self.board_id is not None

    @property
    def target_name(self) -> str:
        if self.board is not None:
            return f"ready board {self.board.title}"
        return "expo" if self.station is None else self.station.name
