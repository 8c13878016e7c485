"""The indicator codes the code itself must know by name, each named once here, with what it must be in the
catalog. `parse_catalog` refuses a catalog that lacks one of them or gives it another shape, so renaming an
indicator in data/catalog.toml fails when the catalog loads, not on a page.

Everything else about an indicator (its names, unit, direction, rollup, formula) is data in the catalog.
"""
from __future__ import annotations

from dataclasses import dataclass

# Exposure: the hours every rate per hour is computed on (the u-chart, the silence rule, the upload's checks).
HOURS_WORKED = "hours_worked"
# Head count: hours per head is an upload check.
AVG_EMPLOYEES = "avg_employees"
# Staff who need a certificate and those who hold one: more certified than required is an upload check.
STAFF_REQUIRING_CERT = "staff_requiring_cert"
STAFF_CERTIFIED = "staff_certified"
# The events of the injury u-chart and its rate.
INJURIES = "injuries"
INJURY_RATE = "injury_freq_rate"
# The headline figures of the overview, the bulletin and the projector.
FATALITIES = "fatalities"
LOST_TIME_INJURIES = "lost_time_injuries"
LTIFR = "ltifr"
# The hazard figures: found, rectified, overdue and major, and the rectification rate they make.
HAZARDS_FOUND = "hazards_found"
HAZARDS_RECTIFIED = "hazards_rectified"
HAZARDS_OVERDUE = "hazards_overdue"
MAJOR_HAZARDS = "major_hazards"
RECTIFICATION_RATE = "rectification_rate"
# Counted from the hazard ledger alone (metrics/ledger/indicators.py): hazards due in the month and those closed on
# time; closed in the month, their days from found to closed, those extended and those sent back; open major
# hazards at month end and the overdue ones among them; repeat findings; findings of outside inspections and
# those rectified.
HAZARDS_DUE = "hazards_due"
HAZARDS_CLOSED_ON_TIME = "hazards_closed_on_time"
HAZARDS_CLOSED = "hazards_closed"
CLOSURE_DAYS = "closure_days"
HAZARDS_CLOSED_EXTENDED = "hazards_closed_extended"
HAZARDS_CLOSED_SENT_BACK = "hazards_closed_sent_back"
MAJOR_HAZARDS_OPEN = "major_hazards_open"
MAJOR_HAZARDS_OVERDUE = "major_hazards_overdue"
REPEAT_HAZARDS = "repeat_hazards"
OUTSIDE_HAZARDS_FOUND = "outside_hazards_found"
OUTSIDE_HAZARDS_RECTIFIED = "outside_hazards_rectified"
# Inspections done as a unit reports them: the ledger's check of inspections without findings reads them.
INSPECTIONS_DONE = "inspections_done"


@dataclass(frozen=True)
class Expected:
    """What a named code must be in the catalog: base (uploaded) or derived from a numerator and denominator."""
    code: str
    numerator: str | None = None
    denominator: str | None = None

    @property
    def derived(self) -> bool:
        return self.numerator is not None


EXPECTED: tuple[Expected, ...] = (
    Expected(HOURS_WORKED), Expected(AVG_EMPLOYEES), Expected(INJURIES), Expected(FATALITIES),
    Expected(LOST_TIME_INJURIES), Expected(STAFF_REQUIRING_CERT), Expected(STAFF_CERTIFIED),
    Expected(HAZARDS_FOUND), Expected(HAZARDS_RECTIFIED), Expected(HAZARDS_OVERDUE), Expected(MAJOR_HAZARDS),
    Expected(HAZARDS_DUE), Expected(HAZARDS_CLOSED_ON_TIME), Expected(HAZARDS_CLOSED), Expected(CLOSURE_DAYS),
    Expected(HAZARDS_CLOSED_EXTENDED), Expected(HAZARDS_CLOSED_SENT_BACK), Expected(MAJOR_HAZARDS_OPEN),
    Expected(MAJOR_HAZARDS_OVERDUE), Expected(REPEAT_HAZARDS), Expected(OUTSIDE_HAZARDS_FOUND),
    Expected(OUTSIDE_HAZARDS_RECTIFIED),
    Expected(INSPECTIONS_DONE),
    Expected(INJURY_RATE, INJURIES, HOURS_WORKED), Expected(LTIFR, LOST_TIME_INJURIES, HOURS_WORKED),
    Expected(RECTIFICATION_RATE, HAZARDS_RECTIFIED, HAZARDS_FOUND),
)
