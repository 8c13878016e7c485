"""Sending the hazard reminders (metrics/ledger/escalation.py) through the configured channels: e-mail through an
SMTP server, and WeCom (企业微信) or DingTalk (钉钉) group robots by their webhook. Every channel is off unless
configured.

The configuration is a TOML file outside the repository named by $SAFETY_NOTIFY (keys: `parse_channels`, README
"Hazard reminders"); secrets (the SMTP password, a robot's URL with its key, DingTalk's signing secret) are
read from the environment variables it names. Unset, nothing is sent and no connection is opened.

Sending is idempotent: each reminder (hazard, rule, the deadline in force) goes once to each channel that covers
its unit, one message per rule and channel (a robot's message split where it would exceed the robot's length
limit). Every attempt is a row of `hazard_notifications` with its outcome; a reminder with an ok row is not sent
again, a failed one is tried again on the next run. A network or server error never raises: it is recorded and
reported. Each run that sends is one audit row (hazard_reminders). A crash between a message going out and its
row being written sends it again on the next run (at least once, never silently lost).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import os
import smtplib
import ssl
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from pathlib import Path

import pandas as pd

from metrics import store
from metrics.ledger.escalation import RULES, Reminder, Rule, deadline_label
from metrics.store import Connection, audit
from metrics.store.audit import Action, Outcome

ENVIRONMENT_VARIABLE = "SAFETY_NOTIFY"
ROBOT_KINDS = ("wecom", "dingtalk")
ROBOT_LIMIT = {"wecom": 2048, "dingtalk": 18000}
"""The most bytes of text one robot message carries (WeCom's text message takes 2,048 bytes, DingTalk's some
20,000): a longer list is sent as several messages."""
NETWORK_ERRORS = (OSError, smtplib.SMTPException, http.client.HTTPException, ValueError)
"""What a send may raise that is the network's or the server's (urllib's URLError and HTTPError are OSErrors;
ValueError: an answer that is not JSON, a URL that is not one)."""

# The reminders of hazards $numbers already sent (a row that says ok), through which channel.
SELECT_SENT = """
SELECT DISTINCT number, rule, deadline, channel FROM hazard_notifications
WHERE ok AND list_contains(CAST($numbers AS VARCHAR[]), number)
"""
INSERT_NOTIFICATIONS = "INSERT INTO hazard_notifications BY NAME SELECT * FROM incoming"


class NotifyConfigError(ValueError):
    """The notification settings are wrong: which file, which key, what to write instead. Nothing was sent."""


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    """Addresses that receive the reminders of every unit."""
    unit_to: Mapping[str, tuple[str, ...]]
    """A unit's code -> the addresses that also receive that unit's reminders."""
    starttls: bool = False
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0

    def addresses(self) -> dict[str, frozenset[str] | None]:
        """Every address -> the units whose reminders it receives (None: every unit)."""
        found: dict[str, frozenset[str] | None] = {address: None for address in self.to}
        for unit, addresses in self.unit_to.items():
            for address in addresses:
                if address not in found or found[address] is not None:
                    found[address] = (found.get(address) or frozenset()) | {unit}
        return found


@dataclass(frozen=True)
class Robot:
    name: str
    kind: str
    url: str
    units: frozenset[str] | None = None
    """The units whose reminders it posts (None: every unit)."""
    secret: str | None = None
    """DingTalk's signing secret (加签), when the robot is set to check signatures."""
    timeout: float = 10.0

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"

    def signed_url(self, now_ms: int) -> str:
        """The URL to post to; a DingTalk robot with a secret gets its timestamp and signature appended."""
        if self.secret is None:
            return self.url
        digest = hmac.new(self.secret.encode(), f"{now_ms}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = urllib.parse.quote_plus(base64.b64encode(digest))
        return f"{self.url}{'&' if '?' in self.url else '?'}timestamp={now_ms}&sign={sign}"


@dataclass(frozen=True)
class Channels:
    smtp: Smtp | None = None
    robots: tuple[Robot, ...] = ()
    lang: str = "zh"

    @property
    def configured(self) -> bool:
        return self.smtp is not None or bool(self.robots)


@dataclass(frozen=True)
class Message:
    """One message to one channel: the reminders of one rule (or a part of them, for a robot's length limit)."""
    channel: str
    rule: str
    reminders: tuple[Reminder, ...]
    subject: str
    body: str


@dataclass(frozen=True)
class Sent:
    """What a run did: the messages it tried, those that failed with their errors, and the reminders skipped
    because each channel already had them."""
    messages: int = 0
    failed: int = 0
    errors: tuple[str, ...] = ()
    already_sent: int = 0
    channels: tuple[str, ...] = ()

    def as_json(self) -> dict:
        return {"messages": self.messages, "sent": self.messages - self.failed, "failed": self.failed,
                "errors": list(self.errors), "already_sent": self.already_sent, "channels": list(self.channels)}


# Configuration -------------------------------------------------------------------------------------------

SMTP_KEYS = {"host", "port", "from", "to", "units", "starttls", "user", "password_env", "timeout"}
ROBOT_KEYS = {"name", "kind", "url", "url_env", "units", "secret_env", "timeout"}


def load_channels(environ: Mapping[str, str] = os.environ) -> Channels:
    """The channels the file named by $SAFETY_NOTIFY configures (unset or empty: none, nothing is sent)."""
    name = environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not name:
        return Channels()
    path = Path(name)
    if not path.is_file():
        raise NotifyConfigError(f"{ENVIRONMENT_VARIABLE}={name} names no file; write the notification settings "
                                "there (README, \"Hazard reminders\") or unset it to send nothing")
    return parse_channels(path.read_text(encoding="utf-8"), str(path), environ)


def parse_channels(text: str, source: str, environ: Mapping[str, str]) -> Channels:
    """The channels of a notification file:

    lang = "zh"                      # the messages' language: zh (default) or en
    [smtp]                           # e-mail (off without this section)
    host, port (587), from, to = [addresses for every unit], starttls (false), user, password_env (the name of
    the environment variable holding the password), timeout (seconds, 10)
    [smtp.units]                     # CM01 = ["wang@cm01.cn"]: these addresses also get CM01's reminders
    [[webhook]]                      # one per group robot
    name, kind ("wecom" or "dingtalk"), url or url_env (the variable holding it), units = [codes] (default:
    every unit), secret_env (DingTalk's signing secret), timeout (seconds, 10)
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NotifyConfigError(f"{source} is not valid TOML: {exc}") from None
    unknown = set(doc) - {"lang", "smtp", "webhook"}
    if unknown:
        raise NotifyConfigError(f"{source}: unknown key {sorted(unknown)[0]!r}; the keys are lang, [smtp] and "
                                "[[webhook]]")
    lang = doc.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise NotifyConfigError(f"{source}: lang = {lang!r}; write \"zh\" or \"en\"")
    smtp = _smtp(doc["smtp"], source, environ) if "smtp" in doc else None
    entries = doc.get("webhook", [])
    if not isinstance(entries, list):
        raise NotifyConfigError(f"{source}: write each robot as a [[webhook]] table")
    robots = tuple(_robot(entry, f"{source} [[webhook]] {i + 1}", environ) for i, entry in enumerate(entries))
    keys = [robot.key for robot in robots]
    if len(set(keys)) != len(keys):
        raise NotifyConfigError(f"{source}: two [[webhook]] tables have the same kind and name; give each its own "
                                "name (the record of what was sent goes by it)")
    return Channels(smtp, robots, lang)


def _smtp(section: object, source: str, environ: Mapping[str, str]) -> Smtp:
    where = f"{source} [smtp]"
    table = _table(section, where, SMTP_KEYS, "password")
    units = _table(table.get("units", {}), f"{where}.units", None, None)
    unit_to = {str(code): _addresses(value, f"{where}.units {code}") for code, value in units.items()}
    to = _addresses(table.get("to", []), f"{where} to")
    if not to and not unit_to:
        raise NotifyConfigError(f"{where}: no recipient; give to = [\"anquan@group.cn\"] or a [smtp.units] list")
    return Smtp(host=_text(table, "host", where), port=_port(table, where),
                sender=_address(_text(table, "from", where), f"{where} from"), to=to, unit_to=unit_to,
                starttls=_flag(table, "starttls", where), user=table.get("user") or None,
                password=_secret(table, "password_env", where, environ), timeout=_timeout(table, where))


def _robot(entry: object, where: str, environ: Mapping[str, str]) -> Robot:
    table = _table(entry, where, ROBOT_KEYS, "secret")
    kind = _text(table, "kind", where)
    if kind not in ROBOT_KINDS:
        raise NotifyConfigError(f"{where}: kind = {kind!r}; write \"wecom\" (企业微信) or \"dingtalk\" (钉钉)")
    if ("url" in table) == ("url_env" in table):
        raise NotifyConfigError(f"{where}: give the robot's address as url or as url_env (the environment "
                                "variable holding it), one of the two")
    url = _text(table, "url", where) if "url" in table else _secret(table, "url_env", where, environ)
    if not url or urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise NotifyConfigError(f"{where}: the robot's address is not an http(s) URL")
    units = table.get("units")
    return Robot(name=_text(table, "name", where), kind=kind, url=url,
                 units=None if units is None else frozenset(_codes(units, f"{where} units")),
                 secret=_secret(table, "secret_env", where, environ), timeout=_timeout(table, where))


def _table(value: object, where: str, keys: set[str] | None, secret: str | None) -> dict:
    if not isinstance(value, dict):
        raise NotifyConfigError(f"{where} is not a table")
    if secret is not None and secret in value:
        raise NotifyConfigError(f"{where}: {secret} is written in the file; put it in an environment variable and "
                                f"name that variable as {secret}_env")
    unknown = set(value) - keys if keys is not None else set()
    if unknown:
        raise NotifyConfigError(f"{where}: unknown key {sorted(unknown)[0]!r}; the keys are "
                                f"{', '.join(sorted(keys or ()))}")
    return value


def _text(table: dict, key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        raise NotifyConfigError(f"{where}: {key} is missing or empty")
    return value.strip()


def _port(table: dict, where: str) -> int:
    value = table.get("port", 587)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise NotifyConfigError(f"{where}: port = {value!r}; write the server's port, e.g. 587 or 25")
    return value


def _timeout(table: dict, where: str) -> float:
    value = table.get("timeout", 10)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise NotifyConfigError(f"{where}: timeout = {value!r}; write the seconds to wait, e.g. 10")
    return float(value)


def _flag(table: dict, key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise NotifyConfigError(f"{where}: {key} = {value!r}; write true or false")
    return value


def _secret(table: dict, key: str, where: str, environ: Mapping[str, str]) -> str | None:
    """The value of the environment variable that `key` names (None when the key is not given)."""
    if key not in table:
        return None
    name = _text(table, key, where)
    value = environ.get(name, "")
    if not value:
        raise NotifyConfigError(f"{where}: {key} = {name!r}, but the environment variable {name} is not set")
    return value


def _address(value: str, where: str) -> str:
    if "@" not in value or any(c.isspace() for c in value):
        raise NotifyConfigError(f"{where}: {value!r} is not an e-mail address")
    return value


def _addresses(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise NotifyConfigError(f"{where}: write the addresses as a list: [\"anquan@group.cn\"]")
    return tuple(_address(v.strip(), where) for v in value)


def _codes(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise NotifyConfigError(f"{where}: write the unit codes as a list: [\"CM01\", \"CM02\"]")
    return [v.strip() for v in value]


# Messages ------------------------------------------------------------------------------------------------

HEADING = {"zh": "【隐患整改提醒】{rule}（截至 {day}，{count}）",
           "en": "[Hazard reminder] {rule} (as of {day}: {count})"}


def messages(found: Sequence[Reminder], channels: Channels, sent: set[tuple[str, str, date, str]],
             as_of: date) -> tuple[list[Message], int]:
    """The messages a run sends, and how many reminders each channel covering them already had (`sent`: the
    (number, rule, deadline, channel) of every reminder sent before)."""
    destinations: list[tuple[str, frozenset[str] | None, int | None]] = []
    if channels.smtp is not None:
        destinations += [(f"email:{address}", units, None)
                         for address, units in channels.smtp.addresses().items()]
    destinations += [(robot.key, robot.units, ROBOT_LIMIT[robot.kind]) for robot in channels.robots]
    out: list[Message] = []
    skipped = 0
    for channel, units, limit in destinations:
        mine = [r for r in found if units is None or r.unit in units]
        due = [r for r in mine if (r.number, r.rule.id, r.deadline, channel) not in sent]
        skipped += len(mine) - len(due)
        for rule in RULES:
            def heading(count: int, rule: Rule = rule) -> str:
                lang = channels.lang
                return HEADING[lang].format(rule=rule.name.in_(lang), count=_count(count, lang),
                                            day=deadline_label(as_of, as_of, lang))
            for part in _parts([r for r in due if r.rule.id == rule.id], heading, channels.lang, limit):
                out.append(Message(channel, rule.id, tuple(part), heading(len(part)),
                                   _body(heading(len(part)), part, channels.lang)))
    return out, skipped


def _count(count: int, lang: str) -> str:
    return f"{count} 项" if lang == "zh" else f"{count} hazard" + "s" * (count != 1)


def _line(reminder: Reminder, lang: str) -> str:
    return f"{reminder.unit_name.in_(lang)}：{reminder.sentence(lang)}" if lang == "zh" else \
        f"{reminder.unit_name.in_(lang)}: {reminder.sentence(lang)}"


def _body(heading: str, part: Sequence[Reminder], lang: str) -> str:
    return "\n".join([heading, *(f"{i}. {_line(r, lang)}" for i, r in enumerate(part, 1))])


def _parts(found: list[Reminder], heading: Callable[[int], str], lang: str,
           limit: int | None) -> list[list[Reminder]]:
    """`found` in runs whose message stays within `limit` bytes (None: one run; a line longer than the limit
    goes alone)."""
    if not found:
        return []
    if limit is None:
        return [found]
    parts: list[list[Reminder]] = [[]]
    for reminder in found:
        trial = parts[-1] + [reminder]
        if parts[-1] and len(_body(heading(len(trial)), trial, lang).encode("utf-8")) > limit:
            parts.append([reminder])
        else:
            parts[-1] = trial
    return parts


# Sending -------------------------------------------------------------------------------------------------

def send_reminders(con: Connection, found: Sequence[Reminder], as_of: date, *, actor: str,
                   channels: Channels | None = None, now: datetime | None = None) -> Sent:
    """Send each reminder in `found` not yet sent to each configured channel that covers its unit; record every
    attempt and, when anything was sent or tried, one audit row. `channels` None: $SAFETY_NOTIFY's
    (NotifyConfigError when it is wrong, before anything is sent)."""
    channels = load_channels() if channels is None else channels
    if not channels.configured or not found:
        return Sent()
    numbers = sorted({r.number for r in found})
    sent = {(n, r, pd.Timestamp(d).date(), c)
            for n, r, d, c in con.execute(SELECT_SENT, {"numbers": numbers}).fetchall()}
    batch, skipped = messages(found, channels, sent, as_of)
    if not batch:
        return Sent(already_sent=skipped)
    errors = _deliver(batch, channels)
    now = now or datetime.now()  # the trail's clock is the machine's (metrics/core/clock.py)
    rows = [{"number": r.number, "rule": m.rule, "deadline": r.deadline, "channel": m.channel, "sent_at": now,
             "ok": errors[i] is None, "error": errors[i]} for i, m in enumerate(batch) for r in m.reminders]
    failures = tuple(f"{m.channel}: {errors[i]}" for i, m in enumerate(batch) if errors[i] is not None)
    keys = tuple(sorted({m.channel for m in batch}))
    result = Sent(len(batch), len(failures), failures, skipped, keys)
    with store.transaction(con), store.registered(con, pd.DataFrame(rows)):
        con.execute(INSERT_NOTIFICATIONS)
        audit.record(con, actor, Action.HAZARD_REMINDERS, target=f"hazard reminders {as_of.isoformat()}", at=now,
                     outcome=Outcome.FAILED if failures else Outcome.OK,
                     detail={"messages": result.messages, "sent": result.messages - result.failed,
                             "failed": result.failed, "channels": list(keys), "first_errors": list(failures[:3])})
    return result


def _deliver(batch: list[Message], channels: Channels) -> list[str | None]:
    """Each message's error (None: sent), in the order of `batch`."""
    errors: dict[int, str | None] = {}
    mail = [(i, m) for i, m in enumerate(batch) if m.channel.startswith("email:")]
    if mail and channels.smtp is not None:
        errors |= _send_mail(channels.smtp, mail)
    robots = {robot.key: robot for robot in channels.robots}
    for i, message in enumerate(batch):
        if message.channel in robots:
            errors[i] = _post(robots[message.channel], message)
    return [errors.get(i, "no such channel") for i in range(len(batch))]


def _send_mail(smtp: Smtp, mail: list[tuple[int, Message]]) -> dict[int, str | None]:
    """Every e-mail through one session with the server; a session that cannot be had fails each of them."""
    errors: dict[int, str | None] = {}
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            for i, message in mail:
                try:
                    client.send_message(_email(smtp.sender, message))
                    errors[i] = None
                except NETWORK_ERRORS as exc:
                    errors[i] = _error(exc)
    except NETWORK_ERRORS as exc:
        for i, _ in mail:
            errors.setdefault(i, _error(exc))
    return errors


def _email(sender: str, message: Message) -> MIMEText:
    """The e-mail of `message`. The subject is encoded whole as UTF-8 words (email.header.Header): the newer
    EmailMessage splits a Chinese subject between encoded words where a space stood, and a reader drops that
    space."""
    email = MIMEText(message.body, "plain", "utf-8")
    email["Subject"] = Header(message.subject, "utf-8", header_name="Subject").encode()
    email["From"] = sender
    email["To"] = message.channel.removeprefix("email:")
    email["Date"] = formatdate(localtime=True)
    email["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1])
    return email


def _post(robot: Robot, message: Message) -> str | None:
    """Post `message` as the robot's text message; the error, or None when the robot answered errcode 0."""
    payload = json.dumps({"msgtype": "text", "text": {"content": message.body}}, ensure_ascii=False).encode()
    request = urllib.request.Request(robot.signed_url(int(time.time() * 1000)), data=payload, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=robot.timeout) as response:
            answer = json.loads(response.read(65536) or b"null")
    except NETWORK_ERRORS as exc:
        return _error(exc)
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        return f"the robot answered {json.dumps(answer, ensure_ascii=False)[:200]}"
    return None


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]
