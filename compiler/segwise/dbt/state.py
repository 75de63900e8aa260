"""The tables segwise keeps in the target schema, defined once.

The generated schema YAML (docs and tests) is written from these, and so is the package's
macro file that creates the tables (`macros/segwise_schema.sql`, see `segwise.dbt.macros`).

Column types are dbt's portable ones: `string`, `timestamp`, `bigint` and `float` become each
adapter's `dbt.type_string()`, `dbt.type_timestamp()`, `dbt.type_bigint()` and an 8-byte float.
"""

from __future__ import annotations

from dataclasses import dataclass

# Tests a column may name: dbt's, plus two that need the project ("segments": one of its
# segment names; "variants": control or treatment).
NOT_NULL = "not_null"
SEGMENTS = "segments"
VARIANTS = "variants"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # string, timestamp, bigint, float
    description: str
    tests: tuple[str | dict[str, object], ...] = ()


@dataclass(frozen=True)
class StateTable:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique together (a schema test)
    documented: bool = True  # its columns appear in the schema YAML
    model: bool = True  # a `segwise_state` model of its own (docs, `ref`)


def accepted_values(*values: str) -> dict[str, object]:
    """The package's own accepted_values test: it takes an `arguments:` block on dbt 1.8-1.11."""
    return {"segwise.segwise_accepted_values": {"arguments": {"values": list(values)}}}


STATE_TABLES: dict[str, StateTable] = {
    t.name: t
    for t in (
        StateTable(
            "segment_membership",
            "Current members of every segment (one row per segment and user), kept by segwise.",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL, SEGMENTS)),
                Column("user_id", "string", "User id, as text.", (NOT_NULL,)),
                Column(
                    "variant", "string", "'control' or 'treatment' for segments with a holdout, else NULL.", (VARIANTS,)
                ),
                Column("entered_at", "timestamp", "T of the run that saw the user enter.", (NOT_NULL,)),
                Column("definition_hash", "string", "Hash of the definition that decided the membership.", (NOT_NULL,)),
                Column("evaluated_at", "timestamp", "T of the last run that re-evaluated this user.", (NOT_NULL,)),
            ),
            key=("segment", "user_id"),
        ),
        StateTable(
            "segment_membership_history",
            "Every membership interval: valid_from is the run that saw the user enter, valid_to the run"
            " that saw the exit (NULL while current).",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL,)),
                Column("user_id", "string", "User id.", (NOT_NULL,)),
                Column("valid_from", "timestamp", "T of the run that saw the entry.", (NOT_NULL,)),
                Column("valid_to", "timestamp", "T of the run that saw the exit; NULL while current."),
                Column("variant", "string", "Holdout variant during the interval.", (VARIANTS,)),
                Column("definition_hash", "string", "Definition hash at entry.", (NOT_NULL,)),
            ),
            key=("segment", "user_id", "valid_from"),
        ),
        StateTable(
            "segment_changes",
            "The change log: one row per entry or exit, with the reason ('data', or 'definition' for a"
            " segment's first evaluation or a changed definition).",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL,)),
                Column("user_id", "string", "User id.", (NOT_NULL,)),
                Column("changed_at", "timestamp", "T of the run that saw the change.", (NOT_NULL,)),
                Column("change", "string", "'entered' or 'exited'.", (NOT_NULL, accepted_values("entered", "exited"))),
                Column(
                    "reason",
                    "string",
                    "'data', or 'definition' for bulk re-evaluations.",
                    (NOT_NULL, accepted_values("data", "definition")),
                ),
            ),
            key=("segment", "user_id", "changed_at"),
        ),
        StateTable(
            "segment_sizes",
            "One row per segment per run: members after the run, entries and exits in it, members in the"
            " control group.",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL,)),
                Column("evaluated_at", "timestamp", "T of the run.", (NOT_NULL,)),
                Column("members", "bigint", "Members after the run.", (NOT_NULL,)),
                Column("entered", "bigint", "Entries in the run.", (NOT_NULL,)),
                Column("exited", "bigint", "Exits in the run.", (NOT_NULL,)),
                Column("control_members", "bigint", "Members in the control group.", (NOT_NULL,)),
            ),
            key=("segment", "evaluated_at"),
        ),
        StateTable(
            "segment_group_membership",
            "Mutually exclusive groups: each user's label is the first segment of the group's priority list"
            " the user belongs to, else the fallback.",
            (
                Column("group_name", "string", "Group name.", (NOT_NULL,)),
                Column("user_id", "string", "User id.", (NOT_NULL,)),
                Column("segment", "string", "The user's label: a segment name or the group's fallback.", (NOT_NULL,)),
                Column("evaluated_at", "timestamp", "T of the run that assigned the label.", (NOT_NULL,)),
            ),
            key=("group_name", "user_id"),
        ),
        StateTable(
            "segment_group_changes",
            "Every change of a user's group label: the label before (NULL when the user had none) and after"
            " (NULL when the user has none now), one row per group, user and run.",
            (
                Column("group_name", "string", "Group name.", (NOT_NULL,)),
                Column("user_id", "string", "User id.", (NOT_NULL,)),
                Column("changed_at", "timestamp", "T of the run that saw the change.", (NOT_NULL,)),
                Column("from_segment", "string", "The label before the run; NULL when the user had none."),
                Column("to_segment", "string", "The label after the run; NULL when the user has none."),
            ),
            key=("group_name", "user_id", "changed_at"),
        ),
        StateTable(
            "segment_overlaps",
            "Members shared by every two segments or group labels after the last run (both orders; pairs"
            " sharing no member have no row): a and b are segments (a_group, b_group NULL) or labels of a"
            " group (a_group, b_group its name).",
            (
                Column("a_group", "string", "The group whose label a is; NULL when a is a segment."),
                Column("a", "string", "A segment, or a label of group a_group.", (NOT_NULL,)),
                Column("b_group", "string", "The group whose label b is; NULL when b is a segment."),
                Column("b", "string", "A segment, or a label of group b_group.", (NOT_NULL,)),
                Column("shared", "bigint", "Users in both.", (NOT_NULL,)),
                Column("a_members", "bigint", "Users in a.", (NOT_NULL,)),
                Column("b_members", "bigint", "Users in b.", (NOT_NULL,)),
                Column("jaccard", "float", "shared / (a_members + b_members - shared).", (NOT_NULL,)),
                Column("evaluated_at", "timestamp", "T of the run.", (NOT_NULL,)),
            ),
            key=("a_group", "a", "b_group", "b"),
        ),
        StateTable(
            "segment_backfill_sizes",
            "What segments would have been at past instants (segwise backfill), from the data the warehouse"
            " held when the backfill ran: never mixed into segment_sizes.",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL,)),
                Column("instant", "timestamp", "The past instant T evaluated.", (NOT_NULL,)),
                Column("members", "bigint", "Members at the instant.", (NOT_NULL,)),
                Column("entered", "bigint", "Members at the instant who were not at the previous one.", (NOT_NULL,)),
                Column("exited", "bigint", "Members at the previous instant who are not at this one.", (NOT_NULL,)),
                Column("control_members", "bigint", "Members in the control group.", (NOT_NULL,)),
                Column("definition_hash", "string", "Hash of the definition evaluated.", (NOT_NULL,)),
                Column("backfilled_at", "timestamp", "When the backfill ran (UTC).", (NOT_NULL,)),
            ),
            key=("segment", "instant"),
        ),
        StateTable(
            "segment_backfill_changes",
            "The entries and exits a backfill found between its instants (the first instant's members"
            " enter): never mixed into segment_changes, so triggers and audits see only real runs.",
            (
                Column("segment", "string", "Segment name.", (NOT_NULL,)),
                Column("user_id", "string", "User id.", (NOT_NULL,)),
                Column("changed_at", "timestamp", "The instant of the change.", (NOT_NULL,)),
                Column("change", "string", "'entered' or 'exited'.", (NOT_NULL, accepted_values("entered", "exited"))),
                Column("definition_hash", "string", "Hash of the definition evaluated.", (NOT_NULL,)),
                Column("backfilled_at", "timestamp", "When the backfill ran (UTC).", (NOT_NULL,)),
            ),
            key=("segment", "user_id", "changed_at"),
        ),
        StateTable(
            "segwise_runs",
            "One row per run: T, the mode (full, incremental), how many users it re-evaluated, and the"
            " watermarks the next run starts from.",
            (
                Column("as_of", "timestamp", "T of the run."),
                Column("mode", "string", "full or incremental."),
                Column("reevaluated_users", "bigint", "Users the run evaluated."),
                Column("max_loaded_at", "timestamp", "The largest loaded_at the run saw."),
                Column("max_updated_at", "timestamp", "The largest updated_at the run saw."),
                Column("segments", "bigint", "Segments the run evaluated."),
                Column("started_at", "timestamp", "When the run started (UTC)."),
                Column("why", "string", "Why the run had its mode (first run, --full-refresh, definitions changed)."),
                Column("new_event_users", "bigint", "Candidates with new or late events, or events newly in range."),
                Column("window_edge_users", "bigint", "Candidates with an event crossing a window edge as T moved."),
                Column("changed_users", "bigint", "Candidates whose users row changed (updated_at)."),
                Column("time_trait_users", "bigint", "Candidates whose timestamp trait crossed a relative bound."),
                Column("rfm_users", "bigint", "Candidates whose RFM values or scores moved."),
                Column("prediction_users", "bigint", "Candidates with predictions, which move with T and each fit."),
                Column("store", "string", "What the run did to the event store: rebuilt or appended."),
                Column("store_rows_added", "bigint", "Rows the run wrote to the event store."),
                Column("changes", "bigint", "Rows the run wrote to segment_changes."),
                Column(
                    "widened_segments",
                    "bigint",
                    "Segments an incremental run evaluated for every user, their definitions having changed.",
                ),
                Column("group_hashes", "string", "The groups' definition hashes, 'name=hash,...'."),
            ),
            key=("as_of",),
            documented=False,
        ),
        StateTable(
            "segwise_segments",
            "The definition hashes the last run evaluated; the next run evaluates the segments whose hash"
            " differs for every user.",
            (
                Column("segment", "string", "Segment name."),
                Column("definition_hash", "string", "Its definition hash."),
                Column("evaluated_at", "timestamp", "T of the run that evaluated it."),
            ),
            documented=False,
        ),
        StateTable(
            "segwise_event_store_state",
            "What the event store (segwise_event_store) holds: the spec it was built for and its watermark.",
            (
                Column("spec", "string", "Hash of the store's columns and extraction rules."),
                Column("max_loaded_at", "timestamp", "The largest loaded_at the store has read."),
                Column("built_at", "timestamp", "T of the run that rebuilt the store."),
                Column("as_of", "timestamp", "T of the last run that added events to it."),
            ),
            documented=False,
            model=False,
        ),
        StateTable(
            "segwise_rfm_state",
            "Every buyer's RFM values at the last run, which the next run compares with to find whose scores moved.",
            (
                Column("user_id", "string", "User id."),
                Column("rfm", "string", "recency_days|frequency|r|f|m as text."),
                Column("monetary", "string", "The monetary value as text (compared with a tolerance)."),
            ),
            documented=False,
            model=False,
        ),
    )
}

# The state tables other than membership: each is a `segwise_state` model of its own.
MAINTAINED = [name for name, t in STATE_TABLES.items() if name != "segment_membership" and t.model]
