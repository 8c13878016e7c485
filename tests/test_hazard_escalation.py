"""Escalation of open hazards (metrics/ledger/escalation.py) and its notifications (metrics/ledger/notify.py;
docs/rules.md, "9. The hazard ledger"): the reminder rules on hand-built hazards at chosen days, the reminder list
of a real store per unit and owner, and the notification path against a local SMTP server (aiosmtpd) and local
HTTP receivers standing in for a WeCom and a DingTalk robot, all on 127.0.0.1: one message per rule and
channel, none the second time, none and no connection when not configured, a failed send recorded and retried."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from dataclasses import replace
from datetime import date, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from metrics import access, store
from metrics.auth.roles import Role, User
from metrics.cli.main import main
from metrics.core.text import Text
from metrics.ledger import escalation, notify
from metrics.ledger.hazards import Change, Hazard, NewHazard, State
from metrics.ledger.notify import NotifyConfigError, parse_channels
from metrics.ledger.vocabulary import load_vocabulary
from metrics.store import audit
from tests.builders import memory_store

ADMIN = User("safety", Role.ADMIN)
STAFF_A = User("a-staff", Role.UNIT, ("A",))
STAFF_B = User("b-staff", Role.UNIT, ("B",))
FOUND = date(2026, 11, 2)
AS_OF = date(2026, 11, 17)
GUARD = NewHazard("A", "daily", "2号皮带机头", "护罩缺失", "general", "thing", "machinery", FOUND, "李工")
ROOF = NewHazard("A", "supervision", "1201 工作面", "顶板离层超限未处理", "major", "environment", "roof_fall", FOUND,
                 "省局检查组", criterion="coal", clause="第十二条")
FIVE = {"owner": "王工", "measures": "加装护罩并挂牌", "funds": 0.5, "verifier": "赵主任"}
SETTINGS = load_vocabulary()
ROBOT_OK = {"errcode": 0, "errmsg": "ok"}


# The rules on hand-built hazards ------------------------------------------------------------------------

def hazard(deadline: date | None = date(2026, 11, 10), state: State = State.RECTIFYING, level: str = "general",
           owner: str | None = "王工") -> Hazard:
    at = datetime(2026, 11, 2, 9)
    return Hazard("A-2026-0007", "A", 2026, 7, "daily", "2号皮带机头", "护罩缺失", level, "thing", "machinery", FOUND,
                  "李工", state, at, at, owner=owner, deadline=deadline, original_deadline=deadline)


def reminded(found: Hazard, day: date) -> escalation.Reminder | None:
    rule = escalation.rule_of(found, day, SETTINGS)
    if rule is None:
        return None
    assert found.deadline is not None
    return escalation.Reminder(rule, found.number, found.subsidiary, Text("甲煤矿", "Mine A"), found.owner,
                               found.place, found.deadline, max((day - found.deadline).days, 0), day, found.major)


@pytest.mark.parametrize("day, rule, zh, en", [
    (date(2026, 11, 6), None, None, None),  # 4 days before: not yet
    (date(2026, 11, 7), "due_soon", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，还有 3 天到期，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, due in 3 days; owner 王工"),
    (date(2026, 11, 9), "due_soon", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，还有 1 天到期，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, due in 1 day; owner 王工"),
    (date(2026, 11, 10), "due_today", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，今天到期，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, due today; owner 王工"),
    (date(2026, 11, 11), "overdue", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，已超期 1 天，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, 1 day overdue; owner 王工"),
    (date(2026, 11, 16), "overdue", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，已超期 6 天，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, 6 days overdue; owner 王工"),
    (date(2026, 11, 17), "escalated", "隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，已超期 7 天，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, 7 days overdue; owner 王工"),
    (date(2027, 1, 4), "escalated",
     "隐患 A-2026-0007（2号皮带机头）整改期限 2026年11月10日，已超期 55 天，责任人 王工",
     "Hazard A-2026-0007 (2号皮带机头): deadline 10 Nov 2026, 55 days overdue; owner 王工"),
])
def test_each_rule_on_an_open_hazard_at_a_day(day, rule, zh, en):
    found = reminded(hazard(), day)
    assert (found.rule.id if found else None) == rule
    if found:
        assert (found.sentence("zh"), found.sentence("en")) == (zh, en)


def test_a_major_hazard_is_named_as_such_and_a_missing_owner_is_said_so():
    found = reminded(hazard(level="major", owner=None), date(2026, 11, 17))
    assert found.sentence("zh") == "重大隐患 A-2026-0007（2号皮带机头）整改期限 11月10日，已超期 7 天，责任人 未填"
    assert found.sentence("en") == "Major hazard A-2026-0007 (2号皮带机头): deadline 10 Nov, 7 days overdue; " \
                                   "owner not given"


@pytest.mark.parametrize("state", [State.CLOSED, State.VOID])
def test_a_closed_or_void_hazard_is_never_reminded(state):
    for day in (date(2026, 11, 8), date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 30)):
        assert escalation.rule_of(hazard(state=state), day, SETTINGS) is None


def test_every_open_state_is_reminded_and_a_hazard_without_a_deadline_never():
    for state in (State.REGISTERED, State.RECTIFYING, State.AWAITING, State.EXTENSION):
        assert escalation.rule_of(hazard(state=state), date(2026, 11, 11), SETTINGS).id == "overdue"
    assert escalation.rule_of(hazard(deadline=None, state=State.REGISTERED), date(2026, 11, 11), SETTINGS) is None


def test_the_days_come_from_the_settings():
    wider = replace(SETTINGS, due_soon_days=5, escalate_after_days=3)
    assert escalation.rule_of(hazard(), date(2026, 11, 5), wider).id == "due_soon"
    assert escalation.rule_of(hazard(), date(2026, 11, 12), wider).id == "overdue"
    assert escalation.rule_of(hazard(), date(2026, 11, 13), wider).id == "escalated"


# A real store ---------------------------------------------------------------------------------------------

@pytest.fixture()
def con(monkeypatch, tmp_path):
    monkeypatch.setenv("SAFETY_NOW", "2026-11-20T10:00")
    monkeypatch.delenv(notify.ENVIRONMENT_VARIABLE, raising=False)
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    connection = memory_store()
    ledger(connection, tmp_path / "evidence")
    yield connection
    connection.close()


def change(actor: User, on: date = date(2026, 11, 20), comment: str = "", **values) -> Change:
    return Change(actor.name, on, comment, values)


def issued(con, user: User, new: NewHazard, deadline: date, **five) -> str:
    number = access.register_hazard(con, user, new)
    access.hazard_step(con, user, number, "issue", change(user, **(FIVE | {"deadline": deadline} | five)))
    return number


def ledger(con, evidence) -> None:
    """A-2026-0001 due in 3 days, -0002 due today, -0003 1 day over (another owner), -0004 a major one 7 days over,
    -0005 closed and -0006 void (both past their deadline), B-2026-0001 2 days over; as of 17 November."""
    issued(con, STAFF_A, GUARD, date(2026, 11, 20))
    issued(con, STAFF_A, replace(GUARD, place="3号皮带机尾"), date(2026, 11, 17))
    issued(con, STAFF_A, replace(GUARD, place="主井绞车房"), date(2026, 11, 16), owner="刘工")
    issued(con, STAFF_A, ROOF, date(2026, 11, 10), contingency="撤人、停采")
    closed = issued(con, STAFF_A, replace(GUARD, place="副井口"), date(2026, 11, 5))
    access.attach_evidence(con, STAFF_A, closed, b"photo after", "after.jpg", evidence)
    access.hazard_step(con, STAFF_A, closed, "submit", change(STAFF_A, rectified_on=date(2026, 11, 4)))
    access.hazard_step(con, STAFF_A, closed, "accept", change(STAFF_A, verified_on=date(2026, 11, 5)))
    void = issued(con, STAFF_A, replace(GUARD, place="风井"), date(2026, 11, 5))
    access.hazard_step(con, STAFF_A, void, "void", change(STAFF_A, comment="与 A-2026-0001 重复", approver="安全科长"))
    issued(con, STAFF_B, replace(GUARD, subsidiary="B"), date(2026, 11, 15))


EXPECTED = [
    ("overdue", "A-2026-0003", "A", "刘工", "主井绞车房", date(2026, 11, 16), 1),
    ("escalated", "A-2026-0004", "A", "王工", "1201 工作面", date(2026, 11, 10), 7),
    ("due_today", "A-2026-0002", "A", "王工", "3号皮带机尾", date(2026, 11, 17), 0),
    ("due_soon", "A-2026-0001", "A", "王工", "2号皮带机头", date(2026, 11, 20), 0),
    ("overdue", "B-2026-0001", "B", "王工", "2号皮带机头", date(2026, 11, 15), 2),
]


def rows(found) -> list[tuple]:
    return [(r.rule.id, r.number, r.unit, r.owner, r.place, r.deadline, r.days_over) for r in found]


def test_the_reminder_list_per_unit_and_owner_most_urgent_first(con):
    assert rows(escalation.reminders(con, AS_OF)) == EXPECTED
    assert rows(access.hazard_reminders(con, ADMIN, AS_OF)) == EXPECTED
    assert rows(access.hazard_reminders(con, STAFF_B, AS_OF)) == EXPECTED[4:]
    assert rows(access.hazard_reminders(con, STAFF_A, AS_OF)) == EXPECTED[:4]
    assert rows(escalation.reminders(con, date(2026, 11, 1))) == []  # nothing due within 3 days yet


def test_an_extension_moves_the_reminders_with_the_deadline(con):
    access.hazard_step(con, STAFF_B, "B-2026-0001", "extend",
                       change(STAFF_B, comment="备件未到", deadline=date(2026, 11, 19), approver="安全科长"))
    assert rows(access.hazard_reminders(con, STAFF_B, AS_OF)) == [
        ("due_soon", "B-2026-0001", "B", "王工", "2号皮带机头", date(2026, 11, 19), 0)]


# Local receivers ------------------------------------------------------------------------------------------

class Inbox:
    """aiosmtpd's handler: every message the local SMTP server accepts."""

    def __init__(self) -> None:
        self.received: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture()
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, inbox
    controller.stop()


class Robot:
    """A local HTTP receiver standing in for a group robot: every request's path and JSON, answered with `status`
    and `answer`."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        self.status, self.answer = 200, ROBOT_OK
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.posts.append((self.path, json.loads(body)))
                reply = json.dumps(robot.answer).encode()
                self.send_response(robot.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test-key"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def texts(self) -> list[str]:
        return [post["text"]["content"] for _, post in self.posts]


@pytest.fixture()
def robots():
    wecom, dingtalk = Robot(), Robot()
    yield wecom, dingtalk
    wecom.close()
    dingtalk.close()


def configure(tmp_path, monkeypatch, port: int, wecom: Robot, dingtalk: Robot) -> None:
    """The notification file: e-mail to the group for every unit and to B's own address for B, a WeCom robot
    for every unit, a DingTalk robot for A with its signing secret; the secrets in the environment."""
    path = tmp_path / "notify.toml"
    path.write_text(f"""
[smtp]
host = "127.0.0.1"
port = {port}
from = "kanban@group.cn"
to = ["anquan@group.cn"]
timeout = 5
[smtp.units]
B = ["b@unit-b.cn"]

[[webhook]]
name = "集团安监群"
kind = "wecom"
url_env = "TEST_WECOM_URL"

[[webhook]]
name = "A矿群"
kind = "dingtalk"
url_env = "TEST_DINGTALK_URL"
secret_env = "TEST_DINGTALK_SECRET"
units = ["A"]
""", encoding="utf-8")
    monkeypatch.setenv(notify.ENVIRONMENT_VARIABLE, str(path))
    monkeypatch.setenv("TEST_WECOM_URL", wecom.url)
    monkeypatch.setenv("TEST_DINGTALK_URL", dingtalk.url)
    monkeypatch.setenv("TEST_DINGTALK_SECRET", "SEC-test")


def remind(con) -> notify.Sent:
    return notify.send_reminders(con, escalation.reminders(con, AS_OF), AS_OF, actor="cli:ops")


def runs(con) -> list:
    entries = audit.entries(con)
    return entries[entries["action"] == "hazard_reminders"].to_dict("records")


OVERDUE_ALL = ("【隐患整改提醒】已超期（截至 11月17日，2 项）\n"
               "1. 甲煤矿：隐患 A-2026-0003（主井绞车房）整改期限 11月16日，已超期 1 天，责任人 刘工\n"
               "2. 乙化工：隐患 B-2026-0001（2号皮带机头）整改期限 11月15日，已超期 2 天，责任人 王工")
OVERDUE_A = ("【隐患整改提醒】已超期（截至 11月17日，1 项）\n"
             "1. 甲煤矿：隐患 A-2026-0003（主井绞车房）整改期限 11月16日，已超期 1 天，责任人 刘工")
ESCALATED = ("【隐患整改提醒】超期升级（截至 11月17日，1 项）\n"
             "1. 甲煤矿：重大隐患 A-2026-0004（1201 工作面）整改期限 11月10日，已超期 7 天，责任人 王工")


def test_each_channel_gets_one_message_per_rule_and_the_second_run_sends_none(con, smtp_server, robots,
                                                                                tmp_path, monkeypatch):
    port, inbox = smtp_server
    wecom, dingtalk = robots
    configure(tmp_path, monkeypatch, port, wecom, dingtalk)
    sent = remind(con)
    assert (sent.messages, sent.failed, sent.already_sent) == (4 + 1 + 4 + 4, 0, 0)
    group = [m for to, m in inbox.received if to == ["anquan@group.cn"]]
    assert [m["Subject"] for m in group] == [
        "【隐患整改提醒】即将到期（截至 11月17日，1 项）", "【隐患整改提醒】今日到期（截至 11月17日，1 项）",
        "【隐患整改提醒】已超期（截至 11月17日，2 项）", "【隐患整改提醒】超期升级（截至 11月17日，1 项）"]
    assert group[2].get_content().rstrip("\n") == OVERDUE_ALL and group[2]["From"] == "kanban@group.cn"
    unit_b = [m for to, m in inbox.received if to == ["b@unit-b.cn"]]
    assert [m.get_content().rstrip("\n") for m in unit_b] == [
        "【隐患整改提醒】已超期（截至 11月17日，1 项）\n"
        "1. 乙化工：隐患 B-2026-0001（2号皮带机头）整改期限 11月15日，已超期 2 天，责任人 王工"]
    assert len(inbox.received) == 5
    assert wecom.texts()[2:] == [OVERDUE_ALL, ESCALATED] and len(wecom.texts()) == 4
    assert all(post == {"msgtype": "text", "text": {"content": post["text"]["content"]}} for _, post in wecom.posts)
    assert dingtalk.texts()[2] == OVERDUE_A
    assert len(dingtalk.texts()) == 4
    signed(dingtalk.posts[0][0], "SEC-test")
    assert store.scalar(con, "SELECT count(*) FROM hazard_notifications WHERE ok") == 5 + 1 + 5 + 4
    [run] = runs(con)
    assert (run["outcome"], run["actor"], run["target"]) == ("ok", "cli:ops", "hazard reminders 2026-11-17")
    assert json.loads(run["detail"]) == {
        "messages": 13, "sent": 13, "failed": 0, "first_errors": [],
        "channels": ["dingtalk:A矿群", "email:anquan@group.cn", "email:b@unit-b.cn", "wecom:集团安监群"]}

    again = remind(con)
    assert (again.messages, again.failed, again.already_sent) == (0, 0, 5 + 1 + 5 + 4)
    assert (len(inbox.received), len(wecom.posts), len(dingtalk.posts)) == (5, 4, 4)
    assert len(runs(con)) == 1  # a run that sends nothing leaves no row


def signed(path: str, secret: str) -> None:
    """DingTalk's signature (加签): base64 of HMAC-SHA256 over "timestamp\\nsecret", on the posted URL."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    stamp = query["timestamp"][0]
    digest = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256).digest()
    assert query["sign"] == [base64.b64encode(digest).decode()] and query["key"] == ["test-key"]


def test_a_failed_send_is_recorded_never_raised_and_retried_on_the_next_run(con, smtp_server, robots,
                                                                             tmp_path, monkeypatch):
    port, inbox = smtp_server
    wecom, dingtalk = robots
    configure(tmp_path, monkeypatch, port, wecom, dingtalk)
    wecom.status, wecom.answer = 500, {"errcode": -1, "errmsg": "system busy"}
    first = remind(con)
    assert (first.messages, first.failed) == (13, 4)
    assert first.errors[0] == "wecom:集团安监群: HTTPError: HTTP Error 500: Internal Server Error"
    failed = store.query(con, "SELECT number, rule, ok, error FROM hazard_notifications WHERE channel = "
                              "'wecom:集团安监群' ORDER BY number")
    assert failed["number"].tolist() == ["A-2026-0001", "A-2026-0002", "A-2026-0003", "A-2026-0004", "B-2026-0001"]
    assert not failed["ok"].any() and failed["error"].str.contains("HTTP Error 500").all()
    [run] = runs(con)
    assert run["outcome"] == "failed" and json.loads(run["detail"])["failed"] == 4

    wecom.status, wecom.answer = 200, ROBOT_OK
    second = remind(con)
    assert (second.messages, second.failed, second.channels) == (4, 0, ("wecom:集团安监群",))
    assert len(wecom.posts) == 8 and wecom.texts()[6:] == [OVERDUE_ALL, ESCALATED]
    assert (len(inbox.received), len(dingtalk.posts)) == (5, 4)  # the channels that had them get nothing more
    assert remind(con).messages == 0 and len(wecom.posts) == 8


def test_a_robot_that_answers_an_error_code_and_a_server_that_is_not_there_are_failures(con, robots, tmp_path,
                                                                                         monkeypatch):
    wecom, dingtalk = robots
    configure(tmp_path, monkeypatch, free_port(), wecom, dingtalk)  # nothing listens on the SMTP port
    dingtalk.answer = {"errcode": 310000, "errmsg": "sign not match"}
    sent = remind(con)
    assert (sent.messages, sent.failed) == (13, 5 + 4)
    assert any(e.startswith("email:anquan@group.cn: ConnectionRefusedError") for e in sent.errors)
    assert 'dingtalk:A矿群: the robot answered {"errcode": 310000, "errmsg": "sign not match"}' in sent.errors
    assert store.scalar(con, "SELECT count(*) FROM hazard_notifications WHERE ok") == 5  # WeCom's


def test_nothing_is_sent_and_no_connection_opened_when_not_configured(con, smtp_server, robots, monkeypatch):
    port, inbox = smtp_server
    wecom, dingtalk = robots
    connections: list = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect", lambda sock, address: (connections.append(address),
                                                                         real_connect(sock, address))[1])
    sent = remind(con)
    assert (sent, connections) == (notify.Sent(), [])
    assert (inbox.received, wecom.posts, dingtalk.posts) == ([], [], [])
    assert store.scalar(con, "SELECT count(*) FROM hazard_notifications") == 0 and runs(con) == []


def test_a_long_list_is_split_within_the_robots_length_limit(con, robots, tmp_path, monkeypatch):
    wecom, dingtalk = robots
    for i in range(20):
        issued(con, STAFF_A, replace(GUARD, place=f"{i + 1}号巷道皮带机头护罩"), date(2026, 11, 16))
    (tmp_path / "notify.toml").write_text(f'[[webhook]]\nname = "群"\nkind = "wecom"\nurl = "{wecom.url}"\n',
                                          encoding="utf-8")
    monkeypatch.setenv(notify.ENVIRONMENT_VARIABLE, str(tmp_path / "notify.toml"))
    remind(con)
    overdue = [text for text in wecom.texts() if "已超期（" in text]
    assert len(overdue) > 1 and all(len(text.encode()) <= notify.ROBOT_LIMIT["wecom"] for text in overdue)
    lines = [line for text in overdue for line in text.splitlines()[1:]]
    assert len(lines) == 22  # every overdue hazard once: the 20, A-2026-0003 and B-2026-0001


def test_messages_in_english_when_the_file_says_so(con, robots, tmp_path, monkeypatch):
    wecom, _ = robots
    (tmp_path / "notify.toml").write_text(f'lang = "en"\n[[webhook]]\nname = "group"\nkind = "wecom"\n'
                                          f'url = "{wecom.url}"\n', encoding="utf-8")
    monkeypatch.setenv(notify.ENVIRONMENT_VARIABLE, str(tmp_path / "notify.toml"))
    remind(con)
    assert wecom.texts()[2:] == [
        "[Hazard reminder] Overdue (as of 17 Nov: 2 hazards)\n"
        "1. Mine A: Hazard A-2026-0003 (主井绞车房): deadline 16 Nov, 1 day overdue; owner 刘工\n"
        "2. Chem B: Hazard B-2026-0001 (2号皮带机头): deadline 15 Nov, 2 days overdue; owner 王工",
        "[Hazard reminder] Escalated (as of 17 Nov: 1 hazard)\n"
        "1. Mine A: Major hazard A-2026-0004 (1201 工作面): deadline 10 Nov, 7 days overdue; owner 王工"]


@pytest.mark.parametrize("text, fragment", [
    ('[smtp]\nhost = "x"\nfrom = "k@g.cn"\nto = ["a@g.cn"]\npassword = "secret"\n',
     "notify.toml [smtp]: password is written in the file; put it in an environment variable and name that "
     "variable as password_env"),
    ('[smtp]\nhost = "x"\nfrom = "k@g.cn"\nto = ["a@g.cn"]\npassword_env = "NO_SUCH_VARIABLE_HERE"\n',
     "the environment variable NO_SUCH_VARIABLE_HERE is not set"),
    ('[smtp]\nhots = "x"\n', "notify.toml [smtp]: unknown key 'hots'"),
    ('[smtp]\nhost = "x"\nfrom = "k@g.cn"\n', "notify.toml [smtp]: no recipient"),
    ('[smtp]\nhost = "x"\nfrom = "k@g.cn"\nto = "a@g.cn"\n', "write the addresses as a list"),
    ('[[webhook]]\nname = "群"\nkind = "slack"\nurl = "https://x"\n', "kind = 'slack'; write \"wecom\""),
    ('[[webhook]]\nname = "群"\nkind = "wecom"\n', "give the robot's address as url or as url_env"),
    ('[[webhook]]\nname = "群"\nkind = "wecom"\nurl = "https://a"\n[[webhook]]\nname = "群"\nkind = "wecom"\n'
     'url = "https://b"\n', "two [[webhook]] tables have the same kind and name"),
    ('lang = "fr"\n', "lang = 'fr'"),
])
def test_a_wrong_notification_file_is_refused_with_what_to_write(text, fragment):
    with pytest.raises(NotifyConfigError) as caught:
        parse_channels(text, "notify.toml", {})
    assert fragment in str(caught.value)


def test_a_notification_file_that_is_not_there_is_a_clear_error(tmp_path):
    with pytest.raises(NotifyConfigError, match="names no file"):
        notify.load_channels({notify.ENVIRONMENT_VARIABLE: str(tmp_path / "missing.toml")})
    assert not notify.load_channels({}).configured


# The command ----------------------------------------------------------------------------------------------

@pytest.fixture()
def db(con, tmp_path):
    """The same ledger in a store file, for the command."""
    path = tmp_path / "store.duckdb"
    with store.connect(path) as connection:
        store.migrate(connection)
        store.load_reference_data(connection)
        store.upsert_units(connection, store.query(con, "SELECT code, name_zh, name_en, sector FROM subsidiaries"),
                           actor="test")
        ledger(connection, tmp_path / "evidence")
    return path


def test_the_command_lists_the_reminders_and_sends_only_with_send(db, smtp_server, robots, tmp_path, monkeypatch,
                                                                  capsys):
    port, inbox = smtp_server
    wecom, dingtalk = robots
    assert main(["hazards", "remind", "--as-of", "2026-11-17", "--db", str(db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "[已超期] 甲煤矿：隐患 A-2026-0003（主井绞车房）整改期限 11月16日，已超期 1 天，责任人 刘工"
    assert len(out) == 5
    assert main(["hazards", "remind", "--as-of", "2026-11-17", "--send", "--db", str(db)]) == 0
    assert "no notification channel is configured" in capsys.readouterr().err
    monkeypatch.setenv(notify.ENVIRONMENT_VARIABLE, str(tmp_path / "missing.toml"))
    assert main(["hazards", "remind", "--send", "--db", str(db)]) == 1
    assert f"error: SAFETY_NOTIFY={tmp_path / 'missing.toml'} names no file" in capsys.readouterr().err
    configure(tmp_path, monkeypatch, port, wecom, dingtalk)
    assert main(["hazards", "remind", "--as-of", "2026-11-17", "--send", "--json", "--db", str(db)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [r["number"] for r in doc["reminders"]] == [row[1] for row in EXPECTED]
    assert doc["reminders"][1] == {"rule": "escalated", "number": "A-2026-0004", "unit": "A", "owner": "王工",
                                   "place": "1201 工作面", "deadline": "2026-11-10", "days_over": 7, "days_left": 0,
                                   "major": True,
                                   "text_zh": "重大隐患 A-2026-0004（1201 工作面）整改期限 11月10日，已超期 7 天，"
                                              "责任人 王工",
                                   "text_en": "Major hazard A-2026-0004 (1201 工作面): deadline 10 Nov, 7 days "
                                              "overdue; owner 王工"}
    assert doc["sent"] == {"messages": 13, "sent": 13, "failed": 0, "errors": [], "already_sent": 0,
                           "channels": ["dingtalk:A矿群", "email:anquan@group.cn", "email:b@unit-b.cn",
                                        "wecom:集团安监群"]}
    assert main(["hazards", "remind", "--as-of", "2026-11-17", "--send", "--db", str(db)]) == 0
    assert "0 messages sent" in capsys.readouterr().out
    wecom.status = 500
    assert main(["hazards", "remind", "--as-of", "2026-11-18", "--send", "--db", str(db)]) == 1
    assert "wecom:集团安监群: HTTPError: HTTP Error 500" in capsys.readouterr().err
