"""`deskpulse` command line. Errors are one line on stderr and a non-zero exit."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import click

from streams.worker.settings import Settings, SettingsError

FORMATS = click.Choice(["table", "csv", "json"])


class CliError(Exception):
    """An expected failure: printed as one line, exit code 1."""


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj


def _override(ctx: click.Context, param: click.Parameter, value):
    """A common option given after the subcommand: it overrides the one before it (or the environment)."""
    if value is not None:
        ctx.obj = ctx.find_object(Settings).with_overrides(**{param.name: value})  # type: ignore[dict-item]
    return value


# Accepted before the subcommand and after it: `deskpulse demo --data-dir X` is what people type.
COMMON_OPTIONS = (
    click.option("--data-dir", type=click.Path(path_type=Path), expose_value=False, callback=_override,
                 help="Where embedded data lives [DESKPULSE_DATA_DIR]; default .deskpulse."),
    click.option("--broker", expose_value=False, callback=_override,
                 help="kafka://host:port of a running broker [DESKPULSE_BROKER]; default: embedded."),
    click.option("--clickhouse", expose_value=False, callback=_override,
                 help="chdb:///dir or http://user:pass@host:8123/db [DESKPULSE_CLICKHOUSE]."),
    click.option("--topic-prefix", expose_value=False, callback=_override,
                 help="Prefix of every topic name [DESKPULSE_TOPIC_PREFIX]."),
)


def common_options(command):
    for option in reversed(COMMON_OPTIONS):
        command = option(command)
    return command


class _Group(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):
        extra.setdefault("obj", Settings.from_env())  # before the options' callbacks override it
        return super().make_context(info_name, args, parent=parent, **extra)


@click.group(cls=_Group)
@common_options
@click.version_option(package_name="deskpulse", prog_name="deskpulse", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """deskpulse: streaming help-desk metrics, Kafka -> Faust -> ClickHouse.

    The common options (--data-dir, --broker, --clickhouse, --topic-prefix) go before or after the subcommand.
    """




@cli.command()
@common_options
@click.option("--web-port", type=int, help="Port of /metrics, /stats, /sql [DESKPULSE_WEB_PORT].")
@click.option("--loglevel", type=click.Choice(["crit", "error", "warn", "info", "debug"]), default="warn")
@click.pass_context
def worker(ctx: click.Context, web_port, loglevel) -> None:
    """Consume every topic and sink to ClickHouse (migrates first). Needs --broker."""
    from deskpulse.data_dir import require_free
    from streams.worker.app import run_worker

    settings = _settings(ctx).with_overrides(web_port=web_port)
    if settings.broker is None:
        raise CliError("the worker needs a broker: pass --broker kafka://host:port (`deskpulse demo` starts one)")
    require_free(settings)
    sys.exit(run_worker(settings, loglevel))


@cli.command()
@common_options
@click.pass_context
def migrate(ctx: click.Context) -> None:
    """Apply pending ClickHouse migrations (safe to run twice)."""
    from sinks.clickhouse import Warehouse
    from sinks.migrate import migrate as apply

    settings = _settings(ctx)
    warehouse = Warehouse.open(settings.clickhouse_dsn)
    try:
        applied = apply(warehouse, settings.clickhouse_cluster)
    finally:
        warehouse.close()
    click.echo(f"applied {len(applied)} migration(s)" + "".join(f"\n  {m.version:04d} {m.name}" for m in applied))


@cli.command()
@common_options
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--rate", type=float, help="Events per second, in real time (default when no --start).")
@click.option("--start", "start", type=click.DateTime(["%Y-%m-%d"]), help="Generate history from this UTC date.")
@click.option("--days", type=float, default=7.0, show_default=True, help="With --start: how many days.")
@click.option("--fast", is_flag=True, help="With --start: as fast as possible (past timestamps).")
@click.option("--duration", type=float, help="Real-time mode: stop after this many seconds.")
@click.option("--bad-ratio", type=click.FloatRange(0, 1), default=0.0, show_default=True)
@click.option("--intensity", type=float, default=1.0, show_default=True, help="Ticket arrival multiplier.")
@click.pass_context
def simulate(ctx: click.Context, seed, rate, start, days, fast, duration, bad_ratio, intensity) -> None:
    """Produce realistic, seeded help-desk traffic to the broker."""
    import random
    import threading

    from deskpulse.simulator.model import Simulation
    from deskpulse.simulator.produce import history, live, make_producer, send_all
    from streams.worker.kafka_admin import ensure_topics

    settings = _settings(ctx)
    if settings.broker is None:
        raise CliError("simulate needs a broker: pass --broker kafka://host:port")
    if start is not None and not fast:
        raise CliError("--start generates past history: add --fast (real-time replay of the past is not supported)")
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    producer = make_producer(settings.bootstrap)
    rng = random.Random(seed ^ 0x5EED)
    try:
        if start is not None:
            _, events = history(seed, start.replace(tzinfo=UTC), days, intensity)
            stats = send_all(producer, settings, events, bad_ratio=bad_ratio, rng=rng)
        else:
            stop = threading.Event()
            if duration:
                threading.Timer(duration, stop.set).start()
            sim = Simulation(seed, datetime.now(UTC), intensity=intensity)
            try:
                stats = send_all(producer, settings, live(sim, stop, rate or 20.0), bad_ratio=bad_ratio, rng=rng)
            except KeyboardInterrupt:
                stop.set()
                stats = None
        producer.flush()
    finally:
        producer.close()
    if stats:
        click.echo(f"produced {stats.events} events ({stats.bad} malformed)")


@cli.command()
@common_options
@click.option("--duration", type=float, help="Stop everything cleanly after this many seconds.")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--rate", type=float, default=20.0, show_default=True, help="Live events per second.")
@click.option("--history-days", type=float, default=7.0, show_default=True)
@click.option("--bad-ratio", type=click.FloatRange(0, 1), default=0.001, show_default=True)
@click.option("--web-port", type=int, help="Worker web port (default: a free one).")
@click.option("--fresh", is_flag=True, help="Wipe the embedded ClickHouse of an earlier demo first.")
@click.pass_context
def demo(ctx: click.Context, duration, seed, rate, history_days, bad_ratio, web_port, fresh) -> None:
    """Embedded broker + worker + simulated traffic: a week of history, then live."""
    from deskpulse.data_dir import require_free
    from deskpulse.demo import run_demo

    require_free(_settings(ctx))
    sys.exit(run_demo(_settings(ctx), duration=duration, seed=seed, rate=rate, history_days=history_days,
                      bad_ratio=bad_ratio, web_port=web_port, echo=click.echo, fresh=fresh))


@cli.command()
@common_options
@click.argument("query")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.pass_context
def sql(ctx: click.Context, query, fmt) -> None:
    """Run a query against the configured ClickHouse and print the result."""
    from deskpulse.output import render

    columns, rows = run_query(_settings(ctx), query, None)
    click.echo(render(columns, rows, fmt))


@cli.command()
@common_options
@click.argument("name", required=False)
@click.option("--catalogue", is_flag=True, help="Print every report and column as Markdown (docs/reports.md).")
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First local date (default: 30 days ago).")
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="Last local date, inclusive (default: today).")
@click.option("--freq", type=click.Choice(["day", "week", "month", "quarter", "year"]), default="day",
              show_default=True)
@click.option("--account", help="Only this account; its time zone buckets the dates (default: all, UTC).")
@click.option("--tz", help="Time zone for the buckets (default: the account's, else UTC).")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]),
              help="day-summary: the local day (default: yesterday); agent-impact: a day of the week (default: today).")
@click.option("--channel")
@click.option("--priority")
@click.option("--team")
@click.option("--pipeline")
@click.option("--category")
@click.option("--rep", help="Only tickets this rep owns (rep reports: only this rep).")
@click.option("--by", type=click.Choice(["rep", "team", "none"]), default="none", show_default=True,
              help="Group the duration reports by rep or team.")
@click.option("--groups", "chosen", metavar="A,B,...", help="With --by: only these reps or teams.")
@click.option("--view", type=click.Choice(["over-time", "totals"]), default="over-time", show_default=True,
              help="totals: the whole range as one period.")
@click.option("--hours", type=click.Choice(["24/7", "sla"]),
              help="Durations in wall-clock time (24/7) or in the SLA calendar's working time (default: both).")
@click.option("--rows", "list_rows", is_flag=True, help="The unsummarised rows behind the report instead.")
@click.option("--only", multiple=True, metavar="COLUMN=VALUE",
              help="With --rows: only the rows behind one report row, e.g. --only period=2026-11-02 --only group=anna.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
              help="table: for people (human durations, 2026-W47); csv/json: raw seconds and dates.")
@click.pass_context
def report(ctx: click.Context, name, catalogue, start, end, freq, account, tz, day, channel, priority, team,
           pipeline, category, rep, by, chosen, view, hours, list_rows, only, fmt) -> None:
    """Run a historical report; without NAME, list every report with its definition."""
    from click.core import ParameterSource

    from deskpulse.output import for_people, render
    from sinks.reports import available, markdown
    from sinks.reports import catalogue as reports
    from sinks.reports.request import ReportError, build, shown

    if catalogue:
        click.echo(markdown())
        return
    if name is None:
        width = max(len(n) for n in available())
        for entry in reports().values():
            click.echo(f"{entry.name.ljust(width)}  {entry.definition}")
        return
    given = {p.replace("start", "from").replace("end", "to").replace("list_rows", "rows").replace("chosen", "groups")
             for p, v in ctx.params.items()
             if v not in (None, False, ()) and ctx.get_parameter_source(p) is ParameterSource.COMMANDLINE
             and p not in ("name", "catalogue", "fmt")}
    narrowed = {}
    for pair in only:
        column, sep, value = pair.partition("=")
        if not sep:
            raise CliError(f"--only takes COLUMN=VALUE, not {pair[:60]!r}")
        narrowed[column] = value
    settings = _settings(ctx)
    try:
        sql_text, params = build(
            name, lambda q, p: run_query(settings, q, p), given, start=start.date() if start else None,
            end=end.date() if end else None, freq=freq, account=account, tz=tz, by=by,
            day=day.date() if day else None,
            filters={"channel": channel, "priority": priority, "team": team, "pipeline": pipeline,
                     "category": category, "rep": rep}, view=view, rows=list_rows, only=narrowed,
            groups=[g.strip() for g in chosen.split(",") if g.strip()] if chosen else None)
        columns, rows = shown(*run_query(settings, sql_text, params), hours)
    except ReportError as exc:
        raise CliError(str(exc)) from None
    if fmt == "table":
        columns, rows = for_people(columns, rows, freq=params.get("freq", freq), by=by, through=params.get("to"))
    click.echo(render(columns, rows, fmt))


@cli.group()
def config() -> None:
    """Account configuration (time zone, business hours, SLA policies, pipelines)."""


@config.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
def config_check(files: tuple[Path, ...]) -> None:
    """Validate configuration files; list every problem with the path of its field."""
    from deskpulse.account_config import ConfigFileError, load_file

    bad = 0
    for path in files:
        try:
            account = load_file(path)
        except ConfigFileError as exc:
            bad += 1
            for problem in exc.problems:
                click.echo(f"{path}: {problem}")
            continue
        click.echo(f"{path}: ok (account {account.account_id})")
    if bad:
        raise CliError(f"{bad} of {len(files)} file(s) invalid")


@config.command("apply")
@common_options
@click.argument("file", type=click.Path(path_type=Path))
@click.pass_context
def config_apply(ctx: click.Context, file: Path) -> None:
    """Validate FILE and publish it to the config topic; running workers apply it at once."""
    from deskpulse.account_config import ConfigFileError, config_event, load_file
    from deskpulse.simulator.produce import make_producer
    from streams.worker.kafka_admin import ensure_topics

    settings = _settings(ctx)
    try:
        account = load_file(file)
    except ConfigFileError as exc:
        raise CliError(str(exc)) from None
    if settings.broker is None:
        raise CliError("config apply needs a broker: pass --broker kafka://host:port")
    ensure_topics(settings.bootstrap, settings.topic_prefix, settings.partitions)
    event = config_event(account)
    producer = make_producer(settings.bootstrap)
    try:
        producer.send(settings.topic("config"), key=str(account.account_id).encode(),
                      value=json.dumps(event).encode()).get(timeout=30)
    finally:
        producer.close()
    click.echo(f"applied the configuration of {account.account_id} ({event['event_id']})")


@cli.group()
def schemas() -> None:
    """Event schemas."""


@schemas.command("export")
@click.argument("directory", type=click.Path(path_type=Path))
def schemas_export(directory: Path) -> None:
    """Write a JSON Schema file per event type into DIRECTORY."""
    from schemas.export import export_json_schemas

    written = export_json_schemas(directory)
    click.echo(f"wrote {len(written)} schema files to {directory}")


@cli.command()
@common_options
@click.option("--events", type=int, default=300_000, show_default=True)
@click.option("--alert-tickets", type=int, default=200, show_default=True,
              help="Tickets for the SLA alert latency run (0: skip it).")
@click.option("--faust-agent", is_flag=True,
              help="Instead of the worker: a Faust agent on the same records (docs/decisions/0001).")
@click.option("--memory-tickets", type=click.IntRange(min=0, max=20_000_000), default=1_000_000, show_default=True,
              help="Tickets of history for the memory and restore run (0: skip it).")
@click.pass_context
def bench(ctx: click.Context, events, alert_tickets, faust_agent, memory_tickets) -> None:
    """Worker throughput vs a bare consumer, memory and restore time on a long history, then SLA alert
    latency under load, on the embedded stack."""
    from deskpulse.bench import run_bench

    sys.exit(run_bench(_settings(ctx), events, echo=click.echo, alert_tickets=alert_tickets,
                       faust_agent=faust_agent, memory_tickets=memory_tickets))


@cli.command()
@common_options
@click.option("--kills", type=int, default=25, show_default=True)
@click.option("--events", type=int, default=100_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep both runs' data dirs and logs here (default: a temporary dir, removed).")
@click.pass_context
def chaos(ctx: click.Context, kills, events, seed, keep) -> None:
    """kill -9 the worker at random points under load; check nothing is lost, doubled or computed differently."""
    from deskpulse.chaos import run_chaos

    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    result = run_chaos(_settings(ctx), kills=kills, events=events, seed=seed, echo=click.echo, workdir=keep)
    sys.exit(0 if result.ok else 1)


@cli.command("bench-reports")
@click.option("--tickets", type=int, default=10_000, show_default=True, help="Tickets in the template.")
@click.option("--copies", type=int, default=100, show_default=True,
              help="Copies of the template (spread over 4 accounts and a year).")
@click.option("--keep", type=click.Path(file_okay=False), default=None, help="Keep the data here (chDB directory).")
def bench_reports(tickets, copies, keep) -> None:
    """Every report over a year of history (default 10 million messages), loaded straight into ClickHouse."""
    from deskpulse.bench_reports import run_bench_reports

    sys.exit(run_bench_reports(tickets, copies, keep, echo=click.echo))


@cli.command("bench-gaps")
def bench_gaps() -> None:
    """Knowledge-gap grouping: each method on a labelled set of support questions (ARI, purity, cost)."""
    from deskpulse.gaps import run_bench_gaps

    sys.exit(run_bench_gaps(echo=click.echo))


@cli.group()
def gaps() -> None:
    """Knowledge gaps: questions the AI agent could not answer, grouped into topics."""


@gaps.command("group")
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"))
def gaps_group(file) -> None:
    """Group FILE's questions (one per line; - reads stdin) as the worker does: prints TOPIC<TAB>QUESTION."""
    from deskpulse.gaps import GapsError, group_lines

    try:
        for line in group_lines(file):
            click.echo(line)
    except GapsError as exc:
        raise CliError(str(exc)) from None


@cli.command("bench-live")
@common_options
@click.option("--probes", type=int, default=5000, show_default=True)
@click.pass_context
def bench_live(ctx: click.Context, probes) -> None:
    """Latency from producing an event to seeing it in the live JSON API, at 1,000 events/s."""
    from deskpulse.bench_live import run_bench_live

    sys.exit(run_bench_live(_settings(ctx), probes, echo=click.echo))


def run_query(settings: Settings, query: str, parameters: dict | None) -> tuple[list[str], list[list]]:
    """Run a read-only query: through the local worker if it holds the embedded ClickHouse, else directly."""
    from deskpulse.data_dir import holder, require_data
    from sinks.clickhouse import Warehouse
    from streams.worker.adhoc_sql import LIMITS

    if settings.clickhouse is None:
        require_data(settings)
        info = holder(settings)
        if info is not None:
            try:
                return _query_worker(info["web"], query, parameters)
            except urllib.error.URLError:
                pass  # its web server is gone: open the files directly
    warehouse = Warehouse.open(settings.clickhouse_dsn, settings=LIMITS)  # read-only, as through a worker
    try:
        result = warehouse.query(query, parameters)
    except Exception as exc:
        raise CliError(_first_line(exc)) from None
    finally:
        warehouse.close()
    return list(result.column_names), [list(r) for r in result.result_rows]


def _query_worker(web: str, query: str, parameters: dict | None) -> tuple[list[str], list[list]]:
    from sinks.clickhouse import jsonable

    body = json.dumps({"query": query, "parameters": jsonable(parameters or {})}).encode()
    headers = {"Content-Type": "application/json"}
    if os.environ.get("DESKPULSE_ADMIN_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['DESKPULSE_ADMIN_TOKEN']}"
    request = urllib.request.Request(f"{web}/sql", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        payload = json.loads(exc.read() or b"{}")
        raise CliError(payload.get("error", f"worker answered HTTP {exc.code}")) from None
    return payload["columns"], payload["rows"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def main(argv: list[str] | None = None) -> None:
    from deskpulse.data_dir import DataDirError
    from deskpulse.worker_process import WorkerError
    from sinks.clickhouse import WarehouseError
    from streams.worker.kafka_admin import BrokerError

    try:
        cli.main(args=argv, prog_name="deskpulse", standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"deskpulse: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except (CliError, SettingsError, WarehouseError, BrokerError, DataDirError, WorkerError) as exc:
        click.echo(f"deskpulse: error: {_first_line(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # an unexpected failure still gets one line; DESKPULSE_DEBUG=1 shows the trace
        if os.environ.get("DESKPULSE_DEBUG"):
            raise
        click.echo(f"deskpulse: error: {type(exc).__name__}: {_first_line(exc)}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
