"""Command line: everything the pages do with data, scriptable.

Exit codes: 0 done (or nothing to change), 1 the input was rejected (every reason printed) or a hazard
reminder could not be sent (recorded, tried again on the next run), 2 usage.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from metrics import access, store
from metrics.auth import users
from metrics.auth.roles import Forbidden
from metrics.auth.users import UserError
from metrics.cli import users as cli_users
from metrics.core import clock
from metrics.core.catalog import load_catalog
from metrics.core.months import iso_month, parse_month
from metrics.core.paths import db_path
from metrics.core.problems import Rejected
from metrics.ingest import rebuild as rebuilds, sectors, targets, template, units, upload
from metrics.ingest.initialise import NotEmpty, init_store
from metrics.ledger import figures, imports as hazard_imports, notify
from metrics.ledger.demo import fill_store as fill_demo_ledger
from metrics.reports import bulletin
from metrics.scoring import breaches, overview, scores
from metrics.store import Connection, DatabaseError, backup as backups, raw_files, schema

EXIT_OK, EXIT_REJECTED, EXIT_USAGE = 0, 1, 2
REPORT_FORMATS = ("pptx", "pdf", "xlsx")


def _month(text: str) -> date:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _year(text: str) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= 2999:
        raise argparse.ArgumentTypeError(f"not a year: {text!r}; write it as 2026")
    return int(text)


def _existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def _existing_dir(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"no such directory: {text}")
    return path


def _codes(text: str) -> list[str]:
    codes = [code.strip() for code in text.split(",") if code.strip()]
    if not codes:
        raise argparse.ArgumentTypeError(f"no unit codes in {text!r}; write them as CM01,CH02")
    return codes


def _dashboard(text: str) -> str:
    """The dashboard's address, http(s)://host[:port][/path], without a query."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"{text!r} is not the dashboard's address; write it as "
                                         f"https://safety.example.cn (a path after it is kept)")
    return text.rstrip("/")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="the store (default: $SAFETY_DB or data/safety.duckdb)")
    parser = argparse.ArgumentParser(prog="python -m metrics", parents=[common],
                                     description="Group safety-production indicators: store, scoring, breaches.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = commands.add_parser("init", parents=[common], help="create or upgrade the store")
    init.add_argument("--demo", action="store_true", help="fill an empty store with the demo group")
    init.add_argument("--end-month", type=_month, help="last demo month (default: the last complete month)")

    units_cmd = commands.add_parser("units", parents=[common], help="subsidiaries")
    units_sub = units_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    units_import = units_sub.add_parser("import", parents=[common], help="CSV: code,name_zh,name_en,sector")
    units_import.add_argument("file", type=_existing_file)

    sectors_cmd = commands.add_parser("sectors", parents=[common], help="sectors (板块) the units belong to")
    sectors_sub = sectors_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    s_import = sectors_sub.add_parser("import", parents=[common],
                                      help="CSV: code,name_zh,name_en; adds and renames sectors (those left out "
                                           "are kept)")
    s_import.add_argument("file", type=_existing_file)
    s_export = sectors_sub.add_parser("export", parents=[common], help="every sector as CSV, in the import format")
    s_export.add_argument("--out", type=Path, help="write to this file instead of standard output")

    cli_users.add_parsers(commands, common)

    targets_cmd = commands.add_parser("targets", parents=[common], help="target responsibility letters")
    targets_sub = targets_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    t_import = targets_sub.add_parser("import", parents=[common],
                                      help="CSV: year,subsidiary,indicator,target,limit,weight,veto; "
                                           "replaces all targets of each year in the file")
    t_import.add_argument("file", type=_existing_file)
    t_export = targets_sub.add_parser("export", parents=[common], help="one year's targets as CSV")
    t_export.add_argument("--year", type=_year, required=True)
    t_export.add_argument("--out", type=Path, help="write to this file instead of standard output")

    score = commands.add_parser("score", parents=[common], help="score every unit for a month")
    score.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    score.add_argument("--basis", choices=[b.value for b in scores.Basis], default="ytd")
    score.add_argument("--json", action="store_true")

    imp = commands.add_parser("import", parents=[common], help="upload a monthly CSV or XLSX file")
    imp.add_argument("file", type=_existing_file)
    imp.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    imp.add_argument("--json", action="store_true")
    who = imp.add_mutually_exclusive_group()
    who.add_argument("--actor", default=None, help="who is importing (default: $USER)")
    who.add_argument("--as-user", default=None, metavar="NAME",
                     help="import as this user of the store, with their role and units, as the upload page does "
                          "(a unit user's file may carry only their units, and its warnings speak of no other); "
                          "recorded under their name")

    tmpl = commands.add_parser("template", parents=[common],
                               help="the monthly upload template (one row per unit, one column per indicator), "
                                    "the same file the upload page offers")
    tmpl.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    tmpl.add_argument("--out", type=Path, default=None,
                      help="the file to write, or a directory to write it into under its standard name "
                           "(default: the current directory)")
    tmpl.add_argument("--format", choices=template.FORMATS, default=None,
                      help="csv (UTF-8 with BOM, opens in Excel) or xlsx (default: xlsx for an --out ending in "
                           ".xlsx, else csv)")

    hazards_cmd = commands.add_parser("hazards", parents=[common], help="the hazard ledger (隐患台账)")
    hazards_sub = hazards_cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    h_import = hazards_sub.add_parser("import", parents=[common],
                                      help="a findings workbook (CSV or XLSX, the template's columns): registers "
                                           "the hazards without a number, updates the 五定 of those with one; "
                                           "all or nothing")
    h_import.add_argument("file", type=_existing_file)
    h_import.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
    h_import.add_argument("--json", action="store_true")
    h_who = h_import.add_mutually_exclusive_group()
    h_who.add_argument("--actor", default=None, help="who is importing (default: $USER)")
    h_who.add_argument("--as-user", default=None, metavar="NAME",
                       help="import as this user of the store, with their role and units (a unit user's file may "
                            "carry only their units' hazards)")
    h_tmpl = hazards_sub.add_parser("template", parents=[common], help="the findings workbook to fill in")
    h_tmpl.add_argument("--out", type=Path, default=None,
                        help="the file to write, or a directory to write it into under its standard name "
                             "(default: the current directory)")
    h_tmpl.add_argument("--format", choices=hazard_imports.FORMATS, default=None,
                        help="csv (UTF-8 with BOM) or xlsx (default: xlsx for an --out ending in .xlsx, else csv)")
    h_remind = hazards_sub.add_parser("remind", parents=[common],
                                      help="the open hazards due soon, due today, overdue or escalated, per unit "
                                           "and owner; --send notifies the channels $SAFETY_NOTIFY configures")
    h_remind.add_argument("--as-of", type=_day, default=None, metavar="YYYY-MM-DD", help="the day (default: today)")
    h_remind.add_argument("--send", action="store_true",
                          help="send each reminder not yet sent (e-mail, WeCom / DingTalk robots); a failed send is "
                               "recorded and tried again on the next run")
    h_remind.add_argument("--json", action="store_true")
    h_keep = hazards_sub.add_parser("keep", parents=[common],
                                    help="a unit keeps its hazard ledger here from a month: its hazard figures are "
                                         "counted from the ledger from then on and no longer typed")
    h_keep.add_argument("unit")
    h_since = h_keep.add_mutually_exclusive_group(required=True)
    h_since.add_argument("--from", dest="since", type=_month, metavar="YYYY-MM",
                         help="the first month counted from the ledger")
    h_since.add_argument("--stop", action="store_true",
                         help="the unit types its hazard figures again (those written so far stay)")
    h_keep.add_argument("--actor", default=None, help="who decides it (default: $USER)")

    batches_cmd = commands.add_parser("batches", parents=[common], help="list the batches written to the store")
    batches_cmd.add_argument("--json", action="store_true")

    roll = commands.add_parser("rollback", parents=[common], help="undo one batch, restoring what it replaced")
    roll.add_argument("batch", type=int)
    roll.add_argument("--actor", default=None)

    breach = commands.add_parser("breaches", parents=[common], help="breach flags of a month")
    breach.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    breach.add_argument("--json", action="store_true")

    report = commands.add_parser("report", parents=[common],
                                 help="the monthly bulletin (安全生产月度通报) as a PPTX deck, a PDF or an Excel "
                                      "workbook")
    report.add_argument("--month", type=_month, required=True, help="YYYY-MM")
    report.add_argument("--format", choices=REPORT_FORMATS, required=True)
    report.add_argument("--out", type=Path, required=True,
                        help="the file to write, or a directory to write it into under its standard name")
    report.add_argument("--lang", choices=("zh", "en"), default="zh")
    report.add_argument("--scorecards", type=_codes, default=[], metavar="CODE,...",
                        help="add a scorecard of each of these units (pptx, pdf)")
    report.add_argument("--dashboard", type=_dashboard, default=None, metavar="URL",
                        help="the dashboard's address (https://safety.example.cn): each hazard number links to the "
                             "hazards behind it on the ledger page (pptx, pdf)")

    back = commands.add_parser("backup", parents=[common],
                               help="copy the store and its raw files into DIR/safety-backup-YYYYmmdd-HHMMSS/ "
                                    "(safe while the dashboard runs)")
    back.add_argument("--out", type=Path, required=True, metavar="DIR", help="the directory to put the backup in")
    back.add_argument("--actor", default=None, help="who is backing up (default: $USER)")

    restore = commands.add_parser("restore", parents=[common],
                                  help="replace the store with a backup, checked file by file first (a damaged "
                                       "backup changes nothing)")
    restore.add_argument("backup_dir", type=_existing_dir, metavar="BACKUP_DIR",
                         help="a safety-backup-YYYYmmdd-HHMMSS directory")
    restore.add_argument("--yes", action="store_true",
                         help="replace an existing store (without it: check the backup, say what it would replace)")
    restore.add_argument("--actor", default=None, help="who is restoring (default: $USER)")

    rebuild = commands.add_parser("rebuild", parents=[common],
                                  help="replay every upload from its kept raw file into a new store and compare it "
                                       "with the live one (exit 0: equal, 1: different)")
    rebuild.add_argument("--out", type=Path, metavar="PATH",
                         help="write the rebuilt store here and keep it (must not exist; default: a temporary "
                              "file, removed afterwards)")
    rebuild.add_argument("--actor", default=None, help="who is rebuilding (default: $USER)")
    return parser


def _print_problems(problems) -> None:
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)


def _cmd_init(args) -> int:
    try:
        path = init_store(getattr(args, "db", None), with_demo=args.demo, end_month=args.end_month)
        if args.demo:
            fill_demo_ledger(path)
    except NotEmpty as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    print(f"store ready: {path}" + (" (demo data loaded)" if args.demo else ""))
    return EXIT_OK


def _open_existing(args):
    path = db_path(getattr(args, "db", None))
    if not path.exists():
        raise store.StoreError(f"no store at {path}: run `python -m metrics init` first")
    return store.connect(path)


def _cmd_units(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        frame = units.parse_units(args.file, units.sector_names(store.query(con, schema.SELECT_SECTORS)),
                                  store.query(con, schema.SELECT_UNITS))
        store.upsert_units(con, frame, actor=_actor(args))
    print(f"{len(frame)} units imported")
    return EXIT_OK


def _cmd_sectors(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        if args.action == "import":
            changed = sectors.import_sectors(con, args.file, actor=_actor(args))
            print(f"sectors imported: {len(changed)} added or renamed" + (f" ({', '.join(changed)})" * bool(changed)))
            return EXIT_OK
        text = sectors.export_sectors(con)
        access.record_export(con, cli_users.operator(args), "sectors",
                             str(args.out) if args.out else "(standard output)", text.count("\n") - 1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _cmd_targets(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        if args.action == "import":
            frame = targets.import_targets(con, args.file, load_catalog(), actor=_actor(args))
            years = ", ".join(str(y) for y in sorted(frame["year"].unique()))
            print(f"{len(frame)} targets imported; targets of {years} replaced")
            return EXIT_OK
        text = targets.export_targets(con, args.year)
        access.record_export(con, cli_users.operator(args), "targets",
                             str(args.out) if args.out else "(standard output)", text.count("\n") - 1)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _score_table(result: scores.ScoreResult) -> str:
    lines = [f"{'unit':<6} {'name':<14} {'sector':<13} {'score':>7} {'grade':<5} red yellow missing"]
    ranked = result.units.sort_values("unit_score", ascending=False, na_position="last")
    for u in ranked.itertuples(index=False):
        shown = "" if u.unit_score != u.unit_score else f"{u.unit_score:7.2f}"
        lines.append(f"{u.subsidiary:<6} {u.name_zh:<14} {u.sector:<13} {shown:>7} {u.grade or '':<5} "
                     f"{u.red:>3} {u.yellow:>6} {u.missing:>7}")
    return "\n".join(lines)


def _cmd_score(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        result = scores.score(con, args.month, scores.Basis(args.basis))
    if args.json:
        print(json.dumps(scores.to_json(result), ensure_ascii=False, indent=2))
    else:
        print(_score_table(result))
    return EXIT_OK


def _cmd_breaches(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        found = breaches.find_breaches(con, args.month)
        names = {r.code: (r.name_zh, r.name_en) for r in
                 store.query(con, schema.SELECT_INDICATORS).itertuples(index=False)}
    if args.json:
        print(json.dumps(breaches.to_json(args.month, found, names), ensure_ascii=False, indent=2))
    else:
        for b in found:
            print(f"[{b.rule.severity.value}] {b.subsidiary} {b.name}: {b.message('zh', names)}")
    return EXIT_OK


def _actor(args) -> str:
    return cli_users.operator(args).name


def _cmd_import(args) -> int:
    path = db_path(getattr(args, "db", None))
    with _open_existing(args) as con:
        store.migrate(con)
        if args.as_user:
            result = _import_as_user(con, args, path)
        else:
            actor = _actor(args)
            result = upload.refuse_oversized(con, args.file, actor=actor, dry_run=args.dry_run) or \
                figures.import_monthly(con, args.file.read_bytes(), args.file.name, actor=actor,
                                       dry_run=args.dry_run, raw_directory=raw_files.raw_dir(path))
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            print(f"{problem.level.value}: {problem}", file=sys.stderr)
        verb = {"committed": "would write" if args.dry_run else "committed",
                "unchanged": "unchanged (every value equals the store):", "rejected": "rejected:"}[result.status]
        if result.status == "rejected":
            print(f"{verb} {result.error_count:,} errors, nothing written", file=sys.stderr)
        else:
            batch = f" as batch {result.batch_id}" if result.batch_id else ""
            print(f"{verb} {result.rows} values ({result.replaced} replaced){batch}")
    return EXIT_REJECTED if result.status == "rejected" else EXIT_OK


def _import_as_user(con: Connection, args, path: Path) -> upload.ImportResult:
    """`import --as-user NAME`: through metrics.access with that user's role and units, like the page (a dry
    run is the page's check: the file is kept and a rejection recorded; a file beyond the size limit is refused
    on record before it is read, as the page refuses it)."""
    user = users.active_user(con, args.as_user)
    if user is None:
        raise UserError(users.NO_ACTIVE_USER.fill(name=args.as_user))
    upload_as = access.check_upload if args.dry_run else access.commit_upload
    return upload.refuse_oversized(con, args.file, actor=user.name, dry_run=False) or \
        upload_as(con, user, args.file.read_bytes(), args.file.name, raw_files.raw_dir(path))


def _cmd_template(args) -> int:
    fmt = args.format or ("xlsx" if args.out is not None and args.out.suffix.lower() == ".xlsx" else "csv")
    with _open_existing(args) as con:
        store.migrate(con)
        operator = cli_users.operator(args)
        units = access.visible_units(operator, access.reference(con, operator).units)
    if units.empty:
        print("error: the store has no units; import them first (python -m metrics units import FILE)",
              file=sys.stderr)
        return EXIT_REJECTED
    target = args.out if args.out is not None else Path.cwd()
    out = target / template.file_name(args.month, fmt) if target.is_dir() else target
    if not out.parent.is_dir():
        print(f"error: no such directory: {out.parent}", file=sys.stderr)
        return EXIT_REJECTED
    data = template.template_file(load_catalog(), units, args.month, fmt)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    partial.replace(out)
    print(f"wrote {out} ({len(units)} units, {len(data):,} bytes)")
    return EXIT_OK


def _cmd_hazards(args) -> int:
    if args.action == "template":
        return _hazard_template(args)
    if args.action == "remind":
        return _hazard_remind(args)
    if args.action == "keep":
        return _hazard_keep(args)
    path = db_path(getattr(args, "db", None))
    with _open_existing(args) as con:
        store.migrate(con)
        user = users.active_user(con, args.as_user) if args.as_user else cli_users.operator(args)
        if user is None:
            raise UserError(users.NO_ACTIVE_USER.fill(name=args.as_user))
        oversized = upload.refuse_oversized(con, args.file, actor=user.name, dry_run=args.dry_run)
        result = hazard_imports.HazardImport("rejected", oversized.sha256, oversized.problems, dry_run=args.dry_run,
                                             error_count=1) if oversized else _import_findings(con, args, user, path)
    if args.json:
        print(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        for problem in result.problems:
            print(f"{problem.level.value}: {problem}", file=sys.stderr)
        if result.status == "rejected":
            print(f"rejected: {result.error_count:,} errors, nothing written", file=sys.stderr)
        elif result.status == "unchanged":
            print("unchanged: every row equals the ledger")
        else:
            verb = "would register" if args.dry_run else "registered"
            print(f"{verb} {len(result.registered)} hazards ({len(result.issued)} issued for rectification), "
                  f"updated the 五定 of {len(result.updated)}" + (f": {', '.join(result.registered)}" * bool(
                      result.registered)))
    return EXIT_REJECTED if result.status == "rejected" else EXIT_OK


def _hazard_keep(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        try:
            published = figures.keep_ledger(con, args.unit, None if args.stop else args.since, actor=_actor(args))
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REJECTED
    since = "no longer" if args.stop else f"from {args.since:%Y-%m}"
    written = f"batch {published.batch_id}: {len(published.changes)} values" if published and published.batch_id \
        else "no value changed"
    print(f"{args.unit} keeps its hazard ledger here {since}; the ledger's figures: {written}")
    return EXIT_OK


def _import_findings(con: Connection, args, user, path: Path) -> hazard_imports.HazardImport:
    """As `import`: with --as-user through metrics.access, with that user's role and units (a dry run is the page's
    check: a rejection is recorded); else as the command line's administrator, a dry run writing nothing."""
    data, raw = args.file.read_bytes(), raw_files.raw_dir(path)
    if args.as_user:
        return access.import_hazards(con, user, data, args.file.name, raw, dry_run=args.dry_run)
    return figures.import_hazards(con, data, args.file.name, actor=user.name, dry_run=args.dry_run,
                                  raw_directory=raw)


def _hazard_template(args) -> int:
    fmt = args.format or ("xlsx" if args.out is not None and args.out.suffix.lower() == ".xlsx" else "csv")
    target = args.out if args.out is not None else Path.cwd()
    out = target / hazard_imports.template_name(fmt) if target.is_dir() else target
    if not out.parent.is_dir():
        print(f"error: no such directory: {out.parent}", file=sys.stderr)
        return EXIT_REJECTED
    data = hazard_imports.template_file(fmt)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    partial.replace(out)
    print(f"wrote {out} ({len(data):,} bytes)")
    return EXIT_OK


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day: {text!r}; write it as 2026-11-17") from None


def _hazard_remind(args) -> int:
    """`hazards remind`: the reminder list of the day; with --send, each reminder not yet sent goes to the
    configured channels (exit 1 when a message failed: it is recorded and tried again on the next run)."""
    as_of = args.as_of or clock.today()
    channels = notify.load_channels() if args.send else notify.Channels()
    with _open_existing(args) as con:
        store.migrate(con)
        found = access.hazard_reminders(con, cli_users.operator(args), as_of)
        sent = notify.send_reminders(con, found, as_of, actor=_actor(args), channels=channels) \
            if channels.configured else None
    if args.json:
        print(json.dumps({"as_of": as_of.isoformat(), "reminders": [r.as_json() for r in found],
                          "sent": sent.as_json() if sent else None}, ensure_ascii=False, indent=2))
    else:
        for r in found:
            print(f"[{r.rule.name.zh}] {r.unit_name.zh}：{r.sentence('zh')}")
        if sent:
            print(f"{sent.messages - sent.failed} messages sent, {sent.failed} failed "
                  f"({sent.already_sent} reminders sent before)")
    if args.send and not channels.configured:
        print(f"no notification channel is configured (${notify.ENVIRONMENT_VARIABLE} names none): nothing sent",
              file=sys.stderr)
    for error in sent.errors if sent else ():
        print(f"error: {error}", file=sys.stderr)
    return EXIT_REJECTED if sent and sent.failed else EXIT_OK


def _cmd_batches(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        frame = upload.batches(con)
    if args.json:
        print(frame.to_json(orient="records", date_format="iso", force_ascii=False))
        return EXIT_OK
    for b in frame.itertuples(index=False):
        print(f"{b.id:>5} {b.created_at:%Y-%m-%d %H:%M} {b.actor:<10} {b.source:<8} {b.status:<11} "
              f"rows={b.rows} replaced={b.replaced} {b.file_name if pd.notna(b.file_name) else b.note}")
    return EXIT_OK


def _cmd_rollback(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        try:
            done = figures.rollback(con, args.batch, actor=_actor(args))
        except upload.RollbackRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_REJECTED
    print(f"batch {done.batch_id} rolled back as batch {done.rollback_batch_id}: {done.restored} values "
          f"restored, {done.removed} removed")
    return EXIT_OK


def _report_bytes(found: bulletin.Bulletin, fmt: str, lang: str, scorecards: list[str],
                  dashboard: str | None = None) -> tuple[bytes, list[str], str | None]:
    """The file's bytes, the titles of the charts left out and why. The report modules are imported here, not at
    the top: they load Chromium's driver, WeasyPrint and python-pptx, which the other commands need not wait for."""
    match fmt:
        case "pptx" | "pdf":
            from metrics.reports import chart_images, pdf, slides
            charts = chart_images.bulletin_charts(found, lang)
            build = slides.bulletin_pptx if fmt == "pptx" else pdf.bulletin_pdf
            return build(found, lang, charts, scorecards, dashboard), charts.omitted, charts.reason
        case "xlsx":
            from metrics.reports import workbook
            return workbook.bulletin_xlsx(found, lang), [], None
    raise ValueError(f"unknown report format: {fmt!r}")


def _cmd_report(args) -> int:
    with _open_existing(args) as con:
        store.migrate(con)
        months = overview.available_months(con)
        if args.month not in months:
            held = f"the store holds {iso_month(months[0])} to {iso_month(months[-1])}" if months else \
                "the store holds no data: import monthly files first (python -m metrics import FILE)"
            print(f"error: no data for {iso_month(args.month)}; {held}", file=sys.stderr)
            return EXIT_REJECTED
        found = bulletin.build_bulletin(con, args.month)
    known = list(found.overview.units["subsidiary"])
    unknown = [code for code in args.scorecards if code not in known]
    if unknown:
        print(f"error: unknown unit {', '.join(unknown)} in --scorecards; the units are {', '.join(sorted(known))}",
              file=sys.stderr)
        return EXIT_REJECTED
    out = args.out / bulletin.file_name(args.month, args.format, args.lang) if args.out.is_dir() else args.out
    if not out.parent.is_dir():
        print(f"error: no such directory: {out.parent}", file=sys.stderr)
        return EXIT_REJECTED
    data, omitted, reason = _report_bytes(found, args.format, args.lang, args.scorecards, args.dashboard)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_bytes(data)
    partial.replace(out)  # a reader never sees half a file
    with _open_existing(args) as con:
        access.record_export(con, cli_users.operator(args), "bulletin", out.name)
    if omitted:
        print(f"warning: {len(omitted)} charts left out ({reason}): {', '.join(omitted)}", file=sys.stderr)
    print(f"wrote {out} ({len(data):,} bytes)")
    return EXIT_OK


def _cmd_backup(args) -> int:
    try:
        done = backups.backup(db_path(getattr(args, "db", None)), args.out, actor=_actor(args))
    except OSError as exc:
        print(f"error: could not write the backup: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    for warning in done.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"backup written: {done.path} ({done.tables.get('observations', 0)} observations, "
          f"{done.tables.get('batches', 0)} batches, {done.raw_files} raw files, {done.bytes:,} bytes, "
          f"{done.seconds:.1f} s)")
    return EXIT_OK


def _cmd_restore(args) -> int:
    path = db_path(getattr(args, "db", None))
    try:
        manifest = backups.verify_backup(args.backup_dir)
        held = None if args.yes else backups.describe_store(path)  # None: no store there
        if held is not None:
            print(f"error: {path} exists ({held['observations']} observations, {held['batches']} batches, audit "
                  f"trail to row {held['audit_last_id']}); restoring replaces all of it with the backup of "
                  f"{manifest['created_at']} ({manifest['tables'].get('observations')} observations, "
                  f"{manifest['tables'].get('batches')} batches). The backup checks out; run again with --yes "
                  f"to restore it", file=sys.stderr)
            return EXIT_REJECTED
        done = backups.restore(args.backup_dir, path, actor=_actor(args))
    except (backups.BackupDamaged, backups.RestoreRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
    except DatabaseError as exc:
        print(f"error: the store {path} could not be opened ({exc}); if it is damaged, move it (and any "
              f"{path.name}.wal) aside and run restore again: nothing was restored", file=sys.stderr)
        return EXIT_REJECTED
    print(f"restored {path} from {done.backup} (backup of {done.backup_created_at}): "
          f"{done.tables.get('observations')} observations, {done.tables.get('batches')} batches; "
          f"{done.raw_restored} raw files added, {done.raw_present} already there; {done.audit_kept} audit rows "
          f"of the store kept after the backup's ({done.seconds:.1f} s)")
    return EXIT_OK


def _cmd_rebuild(args) -> int:
    path = db_path(getattr(args, "db", None))
    if args.out is not None and args.out.exists():
        print(f"error: {args.out} already exists; rebuild writes a new store (pick another --out)", file=sys.stderr)
        return EXIT_REJECTED
    with tempfile.TemporaryDirectory(prefix="safety-rebuild-") as scratch:
        out = args.out or Path(scratch) / "rebuilt.duckdb"
        result = rebuilds.rebuild(path, out, actor=_actor(args))
        print(result.report())
        if args.out is None:
            print("(the rebuilt store was temporary and is removed; --out PATH keeps it)")
    return EXIT_OK if result.ok else EXIT_REJECTED


HANDLERS = {"init": _cmd_init, "units": _cmd_units, "sectors": _cmd_sectors, "targets": _cmd_targets,
            "score": _cmd_score, "breaches": _cmd_breaches, "import": _cmd_import, "template": _cmd_template,
            "hazards": _cmd_hazards,
            "batches": _cmd_batches, "rollback": _cmd_rollback,
            "report": _cmd_report, "backup": _cmd_backup, "restore": _cmd_restore,
            "rebuild": _cmd_rebuild}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        if args.command in ("users", "audit"):
            return (cli_users.cmd_users if args.command == "users" else cli_users.cmd_audit)(args, _open_existing)
        return HANDLERS[args.command](args)
    except Rejected as exc:
        _print_problems(exc.problems)
        return EXIT_REJECTED
    except (store.StoreError, store.StoreBusy, store.DiskFull, UserError, Forbidden, notify.NotifyConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_REJECTED
