"""The demo group's hazard ledgers: a year of hazards for each demo unit, so the ledger's pages show the loop on
the first start.

Each unit registers hazards in proportion to the hazards_found it typed, month by month over the twelve months
ending with the demo's last month (data/demo/hazards.toml's `share`, rounded over the year), in its sector's
places and words, and takes each through the ledger's declared steps (`hazards.register`, `hazards.take`,
`hazards.add_evidence`), each on its own day, so every hazard has its events and audit rows and passes the same
checks as on the page. Most are closed on time with evidence, verified by someone other than their owner; a few
are closed late; a unit-month with a typed major hazard has one, verified by the group. The year's stories (data
file's [stories]): a few hazards open past their deadline at the end month, one sent back once, one void, general
hazards extended by their unit, and a major hazard whose extension awaits the group (延期待批).

The demo's "today" is the last day of its last month (never after the clock's today). Draws are seeded by unit,
so the ledger is the same whenever the demo is built. The steps run in the order of their days, so the audit
trail reads in time. `metrics init --demo` (what `make run` calls) runs `fill_store` once `init_store` has built the
monthly data: ingest sits below the ledger and never calls it (tests/test_house.py).
"""
from __future__ import annotations

import tomllib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from metrics import store
from metrics.core import clock
from metrics.core.codes import HAZARDS_FOUND, MAJOR_HAZARDS
from metrics.core.months import month_end, months_ending, parse_month
from metrics.core.paths import DEMO_DIR
from metrics.ledger import figures, hazards
from metrics.ledger.hazards import MAJOR, Change, NewHazard
from metrics.ledger.vocabulary import Vocabulary, load_vocabulary
from metrics.store import Connection, schema
from metrics.store.raw_files import raw_dir

DEMO_HAZARDS_FILE = DEMO_DIR / "hazards.toml"
MONTHS = 12
LAST_MONTH = "SELECT max(month) FROM observations"
TYPED = """
SELECT subsidiary, month, indicator, value FROM observations
WHERE list_contains(CAST($indicators AS VARCHAR[]), indicator) AND month >= $first
"""
COUNT_HAZARDS = "SELECT count(*) FROM hazards"


@dataclass(frozen=True)
class Template:
    """What a hazard of a sector is: where, what, its class and accident type, and the measures and funds of its
    五定; a major one also its criterion, clause and contingency plan."""
    sector: str
    place: str
    description: str
    factor: str
    accident_type: str
    measures: str
    funds: float
    criterion: str | None = None
    clause: str | None = None
    contingency: str | None = None


@dataclass(frozen=True)
class Staff:
    """A unit's people: owners rectify, verifiers (the safety office) issue and verify, the head approves a void
    or an extension, finders inspect."""
    owners: tuple[str, ...]
    verifiers: tuple[str, ...]
    head: str
    finders: tuple[str, ...]


@dataclass(frozen=True)
class Setting:
    share: float
    deadline_days: tuple[int, int]
    verify_within_days: int
    late_share: float
    sources: dict[str, float]
    people: dict
    stories: dict
    general: tuple[Template, ...]
    major: tuple[Template, ...]
    kept: dict[str, tuple[date, date]] = field(default_factory=dict)
    """unit -> (the month it begins to register every hazard, its ledger_from): data file's [kept]."""


@dataclass
class Draft:
    """One demo hazard's life before it is taken through the steps: its days, and the story it tells ("": found,
    rectified, verified as the days fall)."""
    unit: str
    template: Template
    source: str
    found_by: str
    found: date
    deadline: date
    owner: str
    verifier: str
    head: str
    rectified: date
    verified: date
    story: str = ""
    moved_to: date | None = None
    """The later deadline of an extension (story "extended", "major_extended" or "pending")."""


@dataclass(frozen=True)
class Planned:
    """One step of a draft on its day: "register", "evidence" or a key of hazards.STEPS."""
    at: datetime
    action: str
    actor: str
    on: date
    comment: str = ""
    values: dict = field(default_factory=dict)


def load_setting(path: Path = DEMO_HAZARDS_FILE) -> Setting:
    doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    settings = doc["settings"]
    low, high = settings["deadline_days"]
    return Setting(float(settings["share"]), (int(low), int(high)), int(settings["verify_within_days"]),
                   float(settings["late_share"]), {k: float(v) for k, v in doc["sources"].items()}, doc["people"],
                   doc["stories"], tuple(Template(**entry) for entry in doc["hazard"]),
                   tuple(Template(**entry) for entry in doc["major"]),
                   {unit: (parse_month(v["begins"]), parse_month(v["ledger_from"]))
                    for unit, v in doc.get("kept", {}).items()})


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(":".join(str(p) for p in parts).encode()))


def demo_today(last_month: date) -> date:
    """The demo's today: the last day of its last month, never after the clock's."""
    return min(month_end(last_month), clock.today())


def _staff(unit: str, setting: Setting) -> Staff:
    rng = _rng(unit, "staff")
    people = setting.people
    names = [s + g for s in people["surnames"] for g in people["given"]]
    picked = [names[i] for i in rng.choice(len(names), size=8, replace=False)]
    return Staff(tuple(picked[:3]), tuple(picked[3:5]), picked[5], tuple(picked[6:8]))


def _counts(found: pd.Series, share: float, begins: date | None = None) -> list[int]:
    """How many hazards each month registers: `share` of the typed hazards_found, rounded on the running total
    so the year's count is the year's typed total times `share`; from `begins` on, every hazard typed."""
    early = found[[m < begins for m in found.index]] if begins else found
    totals = np.round(np.cumsum(early.to_numpy(dtype=float)) * share).astype(int)
    return np.diff(np.concatenate([[0], totals])).tolist() + found.iloc[len(early):].astype(int).tolist()


def _drafts_of_unit(unit: str, sector: str, typed: pd.DataFrame, months: list[date], today: date,
                    setting: Setting) -> list[Draft]:
    """The unit's hazards of the year as the typed figures and the draws have them, before the stories."""
    rng = _rng(unit, "hazards")
    staff = _staff(unit, setting)
    general = [t for t in setting.general if t.sector == sector]
    majors = [t for t in setting.major if t.sector == sector]
    found = typed[HAZARDS_FOUND].reindex(months, fill_value=0)
    major = typed[MAJOR_HAZARDS].reindex(months, fill_value=0)
    sources, weights = list(setting.sources), np.array(list(setting.sources.values()))
    drafts = []
    begins = setting.kept[unit][0] if unit in setting.kept else None
    for month, count in zip(months, _counts(found, setting.share, begins)):
        last = min(month_end(month), today)
        count = max(count, 1) if major[month] > 0 and majors else count
        for index in range(count):
            day = month + timedelta(days=int(rng.integers(0, (last - month).days + 1)))
            template = general[int(rng.integers(len(general)))]
            source = sources[int(rng.choice(len(sources), p=weights / weights.sum()))]
            draft = _draft(unit, template, source, day, staff, setting, rng)
            if index == 0 and major[month] > 0 and majors:
                draft = replace(draft, template=majors[0], verifier=_group(setting, rng), story="major")
            drafts.append(draft)
    return drafts


def _group(setting: Setting, rng: np.random.Generator) -> str:
    names = setting.people["group"]
    return str(names[int(rng.integers(len(names)))])


def _draft(unit: str, template: Template, source: str, day: date, staff: Staff, setting: Setting,
           rng: np.random.Generator) -> Draft:
    low, high = setting.deadline_days
    deadline = day + timedelta(days=int(rng.integers(low, high + 1)))
    if rng.random() < setting.late_share:
        rectified = deadline + timedelta(days=int(rng.integers(1, 9)))
    else:
        rectified = day + timedelta(days=int(rng.integers(1, (deadline - day).days + 1)))
    verified = rectified + timedelta(days=int(rng.integers(0, setting.verify_within_days + 1)))
    finder = setting.people.get(source) or staff.finders[int(rng.integers(len(staff.finders)))]
    return Draft(unit, template, source, str(finder), day, deadline, staff.owners[int(rng.integers(3))],
                 staff.verifiers[int(rng.integers(2))], staff.head, rectified, verified)


def _tell_stories(drafts: list[Draft], today: date, setting: Setting, staff_of: dict[str, Staff],
                  sector_of: dict[str, str]) -> list[Draft]:
    """The year's stories on the drafts (data/demo/hazards.toml's [stories])."""
    stories = setting.stories
    rng = _rng("stories")
    for unit, count in stories["overdue"].items():
        candidates = [d for d in drafts if d.unit == unit and not d.story and d.found <= today - timedelta(days=8)]
        for draft in sorted(candidates, key=lambda d: d.found, reverse=True)[:int(count)]:
            room = min(setting.deadline_days[1], (today - draft.found).days) - setting.deadline_days[0]
            draft.deadline = draft.found + timedelta(days=setting.deadline_days[0] + int(rng.integers(0, room)))
            draft.story = "overdue"
    for story in ("awaiting", "registered"):
        drafts += [_recent(unit, story, today, setting, staff_of[unit], sector_of[unit], drafts)
                   for unit in stories[story]]
    _pick(drafts, stories["sent_back"], lambda d: d.deadline < today - timedelta(days=20)
          and (d.deadline - d.found).days >= 10).story = "sent_back"
    _pick(drafts, stories["void"], lambda d: d.found < today - timedelta(days=10)).story = "void"
    for unit in stories["extended"]:
        chosen = _pick(drafts, unit, lambda d: d.deadline < today - timedelta(days=30))
        chosen.story, chosen.moved_to = "extended", chosen.deadline + timedelta(days=12)
        chosen.rectified = chosen.moved_to - timedelta(days=2)
    majors = [d for d in drafts if d.story == "major" and d.deadline < today - timedelta(days=30)]
    if majors:
        majors[0].story, majors[0].moved_to = "major_extended", majors[0].deadline + timedelta(days=20)
        majors[0].rectified = majors[0].moved_to - timedelta(days=2)
    drafts.append(_pending(stories["pending_extension"], today, setting, staff_of, sector_of))
    return drafts


def _pick(drafts: list[Draft], unit: str, fits: Callable[[Draft], bool]) -> Draft:
    """The unit's earliest general draft without a story that `fits`."""
    for draft in sorted(drafts, key=lambda d: d.found):
        if draft.unit == unit and not draft.story and fits(draft):
            return draft
    raise ValueError(f"{DEMO_HAZARDS_FILE}: {unit} has no hazard for its story in [stories]; raise the share or "
                     f"name another unit")


def _recent(unit: str, story: str, today: date, setting: Setting, staff: Staff, sector: str,
            drafts: list[Draft]) -> Draft:
    """A general hazard found in the last days: "awaiting" rectified yesterday and awaiting verification,
    "registered" found today and not yet issued; never one the unit found in the last 60 days (it would read as
    registered twice)."""
    rng = _rng(unit, story)
    recent = {d.template for d in drafts if d.unit == unit and d.found >= today - timedelta(days=60)}
    templates = [t for t in setting.general if t.sector == sector and t not in recent]
    template = templates[int(rng.integers(len(templates)))]
    found = today - timedelta(days=6 if story == "awaiting" else 0)
    draft = _draft(unit, template, "daily", found, staff, setting, rng)
    return replace(draft, deadline=found + timedelta(days=setting.deadline_days[1]), rectified=today - timedelta(
        days=1), verified=today + timedelta(days=1), story=story)


def _pending(unit: str, today: date, setting: Setting, staff_of: dict[str, Staff],
             sector_of: dict[str, str]) -> Draft:
    """The major hazard under the group's supervision: found 24 days before `today` by a higher authority, its
    extension asked for 3 days before `today` and still awaiting the group."""
    template = next(t for t in setting.major if t.sector == sector_of[unit])
    staff = staff_of[unit]
    found = today - timedelta(days=24)
    deadline = found + timedelta(days=setting.deadline_days[1])
    return Draft(unit, template, "supervision", str(setting.people["supervision"]), found, deadline,
                 staff.owners[0], str(setting.people["group"][0]), staff.head, today + timedelta(days=1),
                 today + timedelta(days=1), story="pending", moved_to=deadline + timedelta(days=40))


def plan(draft: Draft, today: date, setting: Setting) -> list[Planned]:
    """The steps of `draft` up to `today`, each on its day. A hazard whose deadline (or extended deadline) has
    passed is closed by `today` unless its story keeps it open; a later one is rectified and verified as its
    days fall."""
    t, stories = draft.template, setting.stories
    five = {"owner": draft.owner, "measures": t.measures, "funds": float(t.funds), "deadline": draft.deadline,
            "verifier": draft.verifier} | ({"contingency": t.contingency} if t.contingency else {})
    steps = [_at(draft.found, 9, "register", draft.found_by), _at(draft.found, 11, "issue", draft.head, values=five)]
    rectified, verified = draft.rectified, draft.verified
    match draft.story:
        case "void":
            return [steps[0], _at(draft.found + timedelta(days=2), 10, "void", draft.verifier, stories["void_reason"],
                                  {"approver": draft.head})]
        case "overdue":
            return steps
        case "registered":
            return steps[:1]
        case "pending":
            return steps + [_at(today - timedelta(days=3), 15, "request_extension", draft.owner,
                                stories["pending_reason"], {"deadline": draft.moved_to})]
        case "extended":
            steps.append(_at(draft.deadline - timedelta(days=2), 14, "extend", draft.owner,
                             stories["extension_reason"], {"deadline": draft.moved_to, "approver": draft.head}))
        case "major_extended":
            steps += [_at(draft.deadline - timedelta(days=5), 14, "request_extension", draft.owner,
                          stories["major_extension_reason"], {"deadline": draft.moved_to}),
                      _at(draft.deadline - timedelta(days=3), 10, "approve_extension", draft.verifier)]
        case "sent_back":
            first = draft.found + timedelta(days=(draft.deadline - draft.found).days // 3)
            steps += [_at(first, 16, "evidence", draft.owner),
                      _at(first, 17, "submit", draft.owner, values={"rectified_on": first}),
                      _at(first + timedelta(days=1), 10, "send_back", draft.verifier, stories["sent_back_reason"])]
            rectified = max(rectified, first + timedelta(days=3))
    verified = max(verified, rectified)
    if (draft.moved_to or draft.deadline) < today:
        rectified, verified = min(rectified, today), min(verified, today)
    if rectified > today:
        return steps
    steps += [_at(rectified, 16, "evidence", draft.owner),
              _at(rectified, 17, "submit", draft.owner, values={"rectified_on": rectified})]
    if verified <= today:
        steps.append(_at(verified, 18 if verified == rectified else 10, "accept", draft.verifier,
                         "整改到位，验收通过", {"verified_on": verified}))
    return steps


def _at(day: date, hour: int, action: str, actor: str, comment: str = "", values: dict | None = None) -> Planned:
    return Planned(datetime.combine(day, time(hour)), action, actor, day, comment, values or {})


def _evidence(number: str, draft: Draft, day: date, round_: int) -> tuple[bytes, str]:
    """A small text of the rectification, as a unit attaches its signed record (one for each submission)."""
    text = (f"隐患整改完成记录\n隐患编号：{number}\n隐患部位：{draft.template.place}\n"
            f"隐患描述：{draft.template.description}\n整改措施：{draft.template.measures}\n"
            f"整改完成日期：{day.isoformat()}\n整改责任人：{draft.owner}\n")
    if round_ > 1:
        text += f"第 {round_} 次提交验收（上次验收不通过，已重新整改）\n"
    return text.encode("utf-8"), f"整改完成记录-{number}-{round_}.txt"


def drafts(con: Connection, today: date, setting: Setting) -> list[Draft]:
    """Every demo unit's hazards of the twelve months ending with the store's last month, with their stories."""
    last = pd.Timestamp(store.scalar(con, LAST_MONTH)).date()
    months = months_ending(last, MONTHS)
    typed = store.query(con, TYPED, {"indicators": [HAZARDS_FOUND, MAJOR_HAZARDS], "first": months[0]})
    typed["month"] = pd.to_datetime(typed["month"]).dt.date
    units = store.query(con, schema.SELECT_UNITS)
    sector_of = dict(zip(units["code"], units["sector"]))
    staff_of = {code: _staff(code, setting) for code in units["code"]}
    found: list[Draft] = []
    for code in units["code"]:
        mine = typed[typed["subsidiary"] == code].pivot(index="month", columns="indicator", values="value")
        found += _drafts_of_unit(code, sector_of[code], mine.reindex(columns=[HAZARDS_FOUND, MAJOR_HAZARDS],
                                                                      fill_value=0).fillna(0), months, today,
                                 setting)
    return _tell_stories(found, today, setting, staff_of, sector_of)


def fill(con: Connection, directory: Path, *, setting: Setting | None = None) -> int:
    """Register the demo's hazards in the store (a demo store without hazards) and take each through its steps,
    its evidence kept in `directory` (the store's raw/); returns how many were registered."""
    if store.scalar(con, COUNT_HAZARDS):
        raise ValueError("the store already holds hazards; the demo's ledgers go only into a new demo store")
    setting = setting or load_setting()
    today = demo_today(pd.Timestamp(store.scalar(con, LAST_MONTH)).date())
    planned = [(step, index, draft) for index, draft in enumerate(drafts(con, today, setting))
               for step in plan(draft, today, setting)]
    vocabulary = load_vocabulary()
    with store.transaction(con):  # one commit for the whole year: each step's own would cost more than the step
        _take_steps(con, directory, planned, vocabulary)
        for unit, (_, ledger_from) in sorted(setting.kept.items()):
            figures.keep_ledger(con, unit, ledger_from, actor="demo")
    return len({index for _, index, _ in planned})


def _take_steps(con: Connection, directory: Path, planned: list[tuple[Planned, int, Draft]],
                vocabulary: Vocabulary) -> None:
    """Each planned step on its day, in the order of their days."""
    numbers: dict[int, str] = {}
    rounds: dict[int, int] = {}
    for step, index, draft in sorted(planned, key=lambda p: (p[0].at, p[1])):
        if step.action == "register":
            numbers[index] = hazards.register(con, _new(draft), actor=step.actor, now=step.at, vocabulary=vocabulary)
        elif step.action == "evidence":
            rounds[index] = rounds.get(index, 0) + 1
            data, name = _evidence(numbers[index], draft, step.on, rounds[index])
            hazards.add_evidence(con, numbers[index], data, name, actor=step.actor, directory=directory, now=step.at)
        else:
            hazards.take(con, numbers[index], step.action, Change(step.actor, step.on, step.comment, step.values),
                         now=step.at)


def _new(draft: Draft) -> NewHazard:
    t = draft.template
    return NewHazard(draft.unit, draft.source, t.place, t.description, MAJOR if t.criterion else "general", t.factor,
                     t.accident_type, draft.found, draft.found_by, criterion=t.criterion, clause=t.clause)


def fill_store(path: Path) -> int:
    """`fill` the demo store at `path` (its evidence in raw/ beside it)."""
    with store.connect(path) as con:
        return fill(con, raw_dir(Path(path)))
