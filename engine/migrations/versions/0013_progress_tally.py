"""The progress tally: the dashboards count tally rows instead of every occurrence, and
triggers on the occurrences keep it current. It starts empty with no day: the first refresh
(`engine.readmodels.tally.refresh`, run by the scheduler) builds it. The transition log gets
an index by time, which the approvals per week read where the tally cannot answer.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = "assignee_id, roadmap_id, section_key, state, history, due"
COLUMNS = f"{KEY}, municipality_id, n"
#: Where the due date lies against the tally's day: engine.readmodels.tally.DueBucket.
BUCKET = (
    "CASE WHEN {row}.due_on IS NULL THEN 3 WHEN {row}.due_on < {day} THEN 0 "
    "WHEN {row}.due_on = {day} THEN 1 ELSE 2 END"
)
#: The rollup's key; its slot is the assignee's id modulo SLOTS (engine.models.ROLLUP_SLOTS).
ROLLED = "municipality_id, roadmap_id, section_key, state, history, due, slot"
SLOTS = 8
MUNICIPALITY = "CASE WHEN o.kind = 'school' THEN o.parent_id ELSE o.id END"
#: A change to any of these moves an occurrence from one tally row to another.
MOVES = (
    "OLD.state IS NOT NEW.state OR OLD.due_on IS NOT NEW.due_on OR OLD.history IS NOT "
    "NEW.history OR OLD.assignee_id IS NOT NEW.assignee_id OR OLD.activity_id IS NOT "
    "NEW.activity_id"
)
#: Changes the triggers cannot follow row by row: the tally waits for a rebuild.
STALE = {
    "activity": "section_id, roadmap_id",
    "organization": "parent_id, kind",
}


def upgrade() -> None:
    op.create_table(
        "progress_tally",
        sa.Column("assignee_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("roadmap_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("section_key", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(length=32), primary_key=True),
        sa.Column("history", sa.Boolean(), primary_key=True),
        sa.Column("due", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("municipality_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_index("ix_progress_tally_municipality", "progress_tally", ["municipality_id"])
    op.create_table(
        "progress_rollup",
        *(
            sa.Column(name, sa.Integer(), primary_key=True, autoincrement=False)
            for name in ("municipality_id", "roadmap_id", "section_key")
        ),
        sa.Column("state", sa.String(length=32), primary_key=True),
        sa.Column("history", sa.Boolean(), primary_key=True),
        sa.Column("due", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("slot", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "progress_daily",
        sa.Column("municipality_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("slot", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("state", sa.String(length=32), primary_key=True),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.create_table(
        "progress_tally_day",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
    )
    op.create_index("ix_transition_log_at", "transition_log", ["at"])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    moves = MOVES.replace("IS NOT", "IS DISTINCT FROM")
    # An occurrence leaves one tally row and joins another (-1 and +1), and so for the
    # rollup; each pair is locked in key order so that two transactions moving work in
    # opposite directions cannot deadlock.
    op.execute(f"""
CREATE FUNCTION progress_tally_move() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  as_of date;
  tz text;
  was progress_tally%ROWTYPE;
  joins progress_tally%ROWTYPE;
BEGIN
  SELECT d.as_of, d.zone INTO as_of, tz FROM progress_tally_day d WHERE d.id = 1;
  IF as_of IS NULL THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    SELECT OLD.assignee_id, a.roadmap_id, coalesce(a.section_id, 0), OLD.state, OLD.history,
           {BUCKET.format(row="OLD", day="as_of")}, {MUNICIPALITY}, -1
      INTO was FROM activity a, organization o
     WHERE a.id = OLD.activity_id AND o.id = OLD.assignee_id;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT NEW.assignee_id, a.roadmap_id, coalesce(a.section_id, 0), NEW.state, NEW.history,
           {BUCKET.format(row="NEW", day="as_of")}, {MUNICIPALITY}, 1
      INTO joins FROM activity a, organization o
     WHERE a.id = NEW.activity_id AND o.id = NEW.assignee_id;
  END IF;
  -- the days an occurrence enters a state, where the tally counts days
  IF TG_OP = 'UPDATE' AND tz IS NOT NULL AND OLD.state IS DISTINCT FROM NEW.state THEN
    INSERT INTO progress_daily (municipality_id, slot, day, state, n)
    VALUES (joins.municipality_id, NEW.assignee_id % {SLOTS},
            (NEW.state_changed_at AT TIME ZONE tz)::date, NEW.state, 1)
    ON CONFLICT (municipality_id, slot, day, state) DO UPDATE SET n = progress_daily.n + 1;
  END IF;
  IF TG_OP = 'INSERT' THEN
    PERFORM progress_tally_add(joins);
    PERFORM progress_rollup_add(joins);
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM progress_tally_add(was);
    PERFORM progress_rollup_add(was);
  ELSIF ({_row("was")}) <> ({_row("joins")}) THEN
    IF ({_row("was")}) < ({_row("joins")}) THEN
      PERFORM progress_tally_add(was);
      PERFORM progress_tally_add(joins);
    ELSE
      PERFORM progress_tally_add(joins);
      PERFORM progress_tally_add(was);
    END IF;
    IF ({_rolled("was")}) < ({_rolled("joins")}) THEN
      PERFORM progress_rollup_add(was);
      PERFORM progress_rollup_add(joins);
    ELSE
      PERFORM progress_rollup_add(joins);
      PERFORM progress_rollup_add(was);
    END IF;
  END IF;
  RETURN NULL;
END $$;
""")
    op.execute(f"""
CREATE FUNCTION progress_tally_add(change progress_tally) RETURNS void LANGUAGE sql AS $$
  INSERT INTO progress_tally ({COLUMNS}) VALUES ({_row("change", COLUMNS)})
  ON CONFLICT ({KEY}) DO UPDATE SET n = progress_tally.n + excluded.n
$$;
""")
    op.execute(f"""
CREATE FUNCTION progress_rollup_add(change progress_tally) RETURNS void LANGUAGE sql AS $$
  INSERT INTO progress_rollup ({ROLLED}, n) VALUES ({_rolled("change")}, change.n)
  ON CONFLICT ({ROLLED}) DO UPDATE SET n = progress_rollup.n + excluded.n
$$;
""")
    op.execute(
        "CREATE TRIGGER progress_tally_insert_delete AFTER INSERT OR DELETE ON occurrence "
        "FOR EACH ROW EXECUTE FUNCTION progress_tally_move()"
    )
    op.execute(
        "CREATE TRIGGER progress_tally_update AFTER UPDATE ON occurrence FOR EACH ROW "
        f"WHEN ({moves}) EXECUTE FUNCTION progress_tally_move()"
    )
    op.execute(
        "CREATE FUNCTION progress_tally_stale() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE progress_tally_day SET as_of = NULL WHERE as_of IS NOT NULL; "
        "RETURN NULL; END $$"
    )
    for table, columns in STALE.items():
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns.split(", "))
        op.execute(
            f"CREATE TRIGGER progress_tally_stale AFTER UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION progress_tally_stale()"
        )


def _rolled(name: str) -> str:
    """The rollup's key of tally row `name`."""
    return (
        f"{name}.municipality_id, {name}.roadmap_id, {name}.section_key, {name}.state, "
        f"{name}.history, {name}.due, {name}.assignee_id % {SLOTS}"
    )


def _row(name: str, columns: str = KEY) -> str:
    return ", ".join(f"{name}.{c}" for c in columns.split(", "))


def _sqlite_triggers() -> None:
    day = "(SELECT as_of FROM progress_tally_day WHERE id = 1)"
    kept = f"WHEN {day} IS NOT NULL"

    def count(row: str, sign: int) -> str:
        """Add `sign` to the tally row and the rollup row that occurrence `row` counts in."""
        keys = (
            f"{row}.assignee_id, a.roadmap_id, coalesce(a.section_id, 0), {row}.state, "
            f"{row}.history, {BUCKET.format(row=row, day='d.as_of')}, {MUNICIPALITY}"
        )
        source = (
            "FROM activity a, organization o, progress_tally_day d "
            f"WHERE a.id = {row}.activity_id AND o.id = {row}.assignee_id AND d.id = 1"
        )
        return (
            f"INSERT INTO progress_tally ({COLUMNS}) SELECT {keys}, {sign} {source} "
            f"ON CONFLICT ({KEY}) DO UPDATE SET n = n + excluded.n; "
            f"INSERT INTO progress_rollup ({ROLLED}, n) SELECT {MUNICIPALITY}, a.roadmap_id, "
            f"coalesce(a.section_id, 0), {row}.state, {row}.history, "
            f"{BUCKET.format(row=row, day='d.as_of')}, {row}.assignee_id % {SLOTS}, {sign} "
            f"{source} ON CONFLICT ({ROLLED}) DO UPDATE SET n = n + excluded.n;"
        )

    op.execute(
        f"CREATE TRIGGER progress_tally_insert AFTER INSERT ON occurrence {kept} "
        f"BEGIN {count('NEW', 1)} END"
    )
    op.execute(
        f"CREATE TRIGGER progress_tally_delete AFTER DELETE ON occurrence {kept} "
        f"BEGIN {count('OLD', -1)} END"
    )
    op.execute(
        f"CREATE TRIGGER progress_tally_update AFTER UPDATE ON occurrence "
        f"{kept} AND ({MOVES}) BEGIN {count('OLD', -1)} {count('NEW', 1)} END"
    )
    for table, columns in STALE.items():
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns.split(", "))
        op.execute(
            f"CREATE TRIGGER progress_tally_stale_{table} AFTER UPDATE OF {columns} ON "
            f"{table} WHEN {changed} BEGIN UPDATE progress_tally_day SET as_of = NULL; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER progress_tally_insert_delete ON occurrence")
        op.execute("DROP TRIGGER progress_tally_update ON occurrence")
        for table in STALE:
            op.execute(f"DROP TRIGGER progress_tally_stale ON {table}")
        op.execute("DROP FUNCTION progress_tally_move()")
        op.execute("DROP FUNCTION progress_tally_add(progress_tally)")
        op.execute("DROP FUNCTION progress_rollup_add(progress_tally)")
        op.execute("DROP FUNCTION progress_tally_stale()")
    else:
        for name in ("insert", "delete", "update", *(f"stale_{t}" for t in STALE)):
            op.execute(f"DROP TRIGGER progress_tally_{name}")
    op.drop_index("ix_transition_log_at", table_name="transition_log")
    op.drop_table("progress_tally_day")
    op.drop_table("progress_daily")
    op.drop_table("progress_rollup")
    op.drop_table("progress_tally")
