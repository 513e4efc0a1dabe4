"""application submissions, delivery outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:55:57.258253
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("department_slug", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sink", sa.String(length=16), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_delivery_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "application_id",
            "department_slug",
            name="uq_delivery_application_id_department_slug",
        ),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )

    # Applications stored before this revision came without a form: they get their service's
    # slug as form id and no answers, so that the new columns can be NOT NULL.
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("form_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("answers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("channel", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("conversation_id", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_application_idempotency_key"), ["idempotency_key"]
        )
    op.execute("UPDATE application SET form_id = service_slug WHERE form_id IS NULL")
    op.execute("UPDATE application SET answers = '{}' WHERE answers IS NULL")
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.alter_column("form_id", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("answers", existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_application_idempotency_key"), type_="unique")
        batch_op.drop_column("conversation_id")
        batch_op.drop_column("channel")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("answers")
        batch_op.drop_column("form_id")

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_status_next_attempt_at")

    op.drop_table("delivery")
