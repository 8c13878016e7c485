"""Who may do what: roles, the signed-in user, and the one rule table every data access goes through.

`admin` (the group safety department) may do everything; `executive` reads everything and presents;
`unit` staff upload and read in detail only their own subsidiaries, and see the group ranking without the
other units' indicator details. The switch over roles is exhaustive: a new role fails loudly instead of
silently inheriting rights.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import assert_never

from metrics.core.text import Text


class Role(str, Enum):
    ADMIN = "admin"
    EXECUTIVE = "executive"
    UNIT = "unit"


class Permission(str, Enum):
    VIEW_GROUP = "view_group"
    """The group's figures, the ranking (scores, grades, flag counts) and the catalog."""
    VIEW_UNIT = "view_unit"
    """One unit's indicator values, statuses, breaches, history and submissions."""
    UPLOAD = "upload"
    ROLLBACK = "rollback"
    PRESENT = "present"
    """The meeting page and the monthly bulletin (every unit's detail)."""
    EDIT_TARGETS = "edit_targets"
    MANAGE_USERS = "manage_users"
    VIEW_AUDIT = "view_audit"
    KEEP_LEDGER = "keep_ledger"
    """Register a unit's hazards, set their 五定, attach evidence, verify and close its general hazards."""
    SUPERVISE_MAJOR = "supervise_major"
    """The group's part in a major (重大) hazard: verify and close it, approve or refuse its extension."""


UNIT_SCOPED = frozenset({Permission.VIEW_UNIT, Permission.UPLOAD, Permission.ROLLBACK, Permission.KEEP_LEDGER})
EXECUTIVE_RIGHTS = frozenset({Permission.VIEW_GROUP, Permission.VIEW_UNIT, Permission.PRESENT})

ROLE_NAMES = {Role.ADMIN: Text("管理员（集团安全部）", "Administrator (group safety)"),
              Role.EXECUTIVE: Text("领导（只读）", "Executive (read only)"),
              Role.UNIT: Text("单位填报员", "Unit staff")}


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    units: tuple[str, ...] = ()
    """The subsidiaries of a `unit` user (empty for the other roles)."""
    display_name: str = ""
    demo: bool = False

    @property
    def sees_every_unit(self) -> bool:
        match self.role:
            case Role.ADMIN | Role.EXECUTIVE:
                return True
            case Role.UNIT:
                return False
            case _:
                assert_never(self.role)

    def visible(self, unit: str) -> bool:
        return self.sees_every_unit or unit in self.units

    @property
    def scope(self) -> tuple:
        """What the user may see and do: two users with the same scope get the same answer from every read (the
        pages' cache key). The rights are part of it, not only the units: a read only an administrator may make
        (what is due to upload), cached for one, must not answer an executive, who sees every unit too."""
        rights = tuple(p.value for p in Permission if can(self, p))
        return ("all", rights) if self.sees_every_unit else ("units", self.units, rights)


@dataclass
class Forbidden(PermissionError):
    """A refused action, with the sentence the user reads in each language."""
    text: Text
    permission: Permission | None = None
    unit: str | None = None
    extra: dict = field(default_factory=dict)

    def __str__(self) -> str:
        return self.text.en

    def message(self, lang: str) -> str:
        return self.text.in_(lang)


def can(user: User, permission: Permission, unit: str | None = None) -> bool:
    """Whether `user` may do `permission` (for `unit` where it is unit-scoped; None: for some unit)."""
    match user.role:
        case Role.ADMIN:
            return True
        case Role.EXECUTIVE:
            return permission in EXECUTIVE_RIGHTS
        case Role.UNIT:
            if permission is Permission.VIEW_GROUP:
                return True
            if permission in UNIT_SCOPED:
                return bool(user.units) if unit is None else unit in user.units
            return False
        case _:
            assert_never(user.role)


def privileges(role: Role) -> tuple[frozenset[Permission], frozenset[Permission]]:
    """What `role` may do for every unit, and what only for a unit of its own (read from `can`, the rule table)."""
    probe = User(name="", role=role, units=("own",))
    everywhere = frozenset(p for p in Permission if can(probe, p, "another"))
    return everywhere, frozenset(p for p in Permission if can(probe, p, "own")) - everywhere


def by_privilege() -> list[Role]:
    """The roles from the least privileged to the most: fewest rights over every unit first, then fewest over
    its own units (a new user starts with the first)."""
    return sorted(Role, key=lambda role: tuple(len(rights) for rights in privileges(role)))


_REFUSALS = {
    Permission.VIEW_GROUP: Text("你没有查看看板的权限", "you may not view the dashboard"),
    Permission.VIEW_UNIT: Text("你只能查看本单位的详细指标", "you may see the details of your own units only"),
    Permission.UPLOAD: Text("你只能上传本单位的数据", "you may upload your own units' data only"),
    Permission.ROLLBACK: Text("你只能撤回本单位的批次", "you may roll back your own units' batches only"),
    Permission.PRESENT: Text("会议模式和月度通报仅限领导和集团安全部", "the meeting page and the bulletin are for "
                             "executives and the group safety department"),
    Permission.EDIT_TARGETS: Text("只有集团安全部管理员可以修改目标", "only the group safety department's "
                                  "administrators may change targets"),
    Permission.MANAGE_USERS: Text("只有管理员可以管理用户", "only administrators may manage users"),
    Permission.VIEW_AUDIT: Text("只有管理员可以查看审计日志", "only administrators may read the audit trail"),
    Permission.KEEP_LEDGER: Text("你只能登记和整改本单位的隐患", "you may keep your own units' hazard ledger only"),
    Permission.SUPERVISE_MAJOR: Text("重大隐患的验收、销号和延期由集团安全部审批", "a major hazard is verified, "
                                     "closed and extended by the group safety department"),
}


_READ_ONLY = {
    Permission.UPLOAD: Text("领导账号只读，不能上传或撤回数据", "an executive account is read only: it cannot upload "
                            "or roll back data"),
    Permission.KEEP_LEDGER: Text("领导账号只读，不能修改隐患台账", "an executive account is read only: it cannot "
                                 "change the hazard ledger"),
}
_READ_ONLY[Permission.ROLLBACK] = _READ_ONLY[Permission.UPLOAD]
NOT_YOURS = Text("{refusal}（{unit} 不是你的单位）", "{refusal} ({unit} is not one of yours)")
ASK = Text("{refusal}。如需权限请联系集团安全部。", "{refusal}. Ask the group safety department for access.")


def require(user: User, permission: Permission, unit: str | None = None) -> None:
    """Raise Forbidden unless `user` may do `permission` (for `unit`)."""
    if can(user, permission, unit):
        return
    if user.role is Role.EXECUTIVE and permission in _READ_ONLY:
        refusal, unit = _READ_ONLY[permission], None
    else:
        refusal = _REFUSALS[permission]
    if unit is not None:
        refusal = NOT_YOURS.fill(refusal=refusal, unit=unit)
    raise Forbidden(ASK.fill(refusal=refusal), permission, unit)
