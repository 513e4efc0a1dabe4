"""Database models (SQLAlchemy 2, typed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, MetaData, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    """An office of the city administration, as the catalogue describes it."""

    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str | None] = mapped_column(String(200))
    floor: Mapped[str | None] = mapped_column(String(100))
    room: Mapped[str | None] = mapped_column(String(50))
    directions: Mapped[str | None] = mapped_column(Text)
    barrier_free: Mapped[bool | None] = mapped_column()
    # weekday name -> ["HH:MM-HH:MM", ...]
    opening_hours: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    # [{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "reason": "..."}]
    closures: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    sample_data: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Service(Base):
    """A service (Leistung) citizens ask for, as the catalogue describes it."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    synonyms: Mapped[list[str]] = mapped_column(JSON, default=list)
    leika: Mapped[str | None] = mapped_column(String(14))
    description: Mapped[str] = mapped_column(Text)
    eligibility: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(Text)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    processing_time: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    online_form: Mapped[str | None] = mapped_column(String(64))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    sample_data: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    department: Mapped[Department] = relationship(lazy="joined")


class Application(Base):
    """An application a citizen submitted; here only what a status question needs."""

    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    service_slug: Mapped[str] = mapped_column(String(64))
    # Shared secret of the citizen: the postal code of the applicant's address.
    postal_code: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(32), default="received")
    status_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class StatusCheckFailure(Base):
    """A failed status question; counted to slow down guessing of reference numbers."""

    __tablename__ = "status_check_failure"
    __table_args__ = (Index("ix_status_check_failure_key_at", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "conversation:<id>" or "reference:<reference>"
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
