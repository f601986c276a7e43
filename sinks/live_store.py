"""Reading back what the live summary needs of the last hours, for newly assigned partitions."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sinks.clickhouse import Warehouse, as_utc, stored_rows

# Rows up to the stored watermark of each partition only: later ones come from the broker.
_SQL = {
    "feedback.submitted": (
        "SELECT _partition, account_id, occurred_at, ticket_id, survey, score, scale FROM feedback_events "
        "WHERE occurred_at >= {since:DateTime64(3)} AND " + stored_rows(),
        ("_partition", "account_id", "occurred_at", "ticket_id", "survey", "score", "scale")),
    "call.ended": (
        "SELECT _partition, account_id, occurred_at, rep_id, team_id, outcome, duration_s FROM call_events "
        "WHERE occurred_at >= {since:DateTime64(3)} AND " + stored_rows(),
        ("_partition", "account_id", "occurred_at", "rep_id", "team_id", "outcome", "duration_s")),
    # a rep's status when the window opened, and every change since
    "rep.status_changed": (
        "SELECT _partition, account_id, occurred_at, rep_id, team_id, status FROM availability_events "
        "WHERE " + stored_rows() + " "
        "AND (occurred_at >= {since:DateTime64(3)} OR (account_id, rep_id, occurred_at) IN ("
        "  SELECT account_id, rep_id, max(occurred_at) FROM availability_events "
        "  WHERE _partition IN {parts:Array(UInt32)} AND occurred_at < {since:DateTime64(3)} "
        "  GROUP BY account_id, rep_id))",
        ("_partition", "account_id", "occurred_at", "rep_id", "team_id", "status")),
}
TOPIC_OF = {"feedback.submitted": "feedback", "call.ended": "calls", "rep.status_changed": "availability"}


def load_recent(warehouse: Warehouse, source: str, partitions: dict[str, list[int]],
                offsets: dict[tuple[str, int], int], since: datetime) -> list[tuple[int, SimpleNamespace]]:
    """Feedback, calls and rep status changes since `since` of the given partitions of their topics, shaped
    like their events, each with its partition."""
    out = []
    for kind, (sql, names) in _SQL.items():
        parts = sorted(set(partitions.get(TOPIC_OF[kind], [])))
        if not parts:
            continue
        limits = [offsets.get((TOPIC_OF[kind], p), -1) for p in parts]
        result = warehouse.query(sql, {"source": source, "parts": parts, "limits": limits, "since": since})
        for row in result.result_rows:
            fields = dict(zip(names, row, strict=True))
            fields["occurred_at"] = as_utc(fields["occurred_at"])
            partition = fields.pop("_partition")
            out.append((partition, SimpleNamespace(type=kind, **fields)))
    return out
