"""The SLA engine: policies, calendars, config parsing and clocks; pure functions, no I/O.

``calendar``  working hours, holidays, 24x7
``policy``    contract terms (which tickets, targets, pauses, thresholds)
``config``    the ``[sla]`` config section parsed into policies
``clock``     the clocks of one ticket as of ``now``
``coverage``  when a ticket came under its policy (clocks start then)
``states``    where a clock stands (:class:`ClockState`)
``disagreement``  when the vendor's own SLA word contradicts the contract
"""

from paneglass.sla.calendar import ALWAYS, Calendar, WorkingHours
from paneglass.sla.clock import (
    MAINTENANCE,
    ClockResult,
    ClockValues,
    Metric,
    StatusChange,
    Window,
    compute_clock,
    ticket_clock_values,
    ticket_clocks,
)
from paneglass.sla.config import parse_duration, parse_sla
from paneglass.sla.coverage import FieldsChange, covered_since
from paneglass.sla.disagreement import DISAGREE_AFTER, vendor_disagrees
from paneglass.sla.policy import DEFAULT_SETTINGS, Policy, SlaSettings
from paneglass.sla.states import RUNNING_ALARMS, ClockState, live_state, worst

__all__ = [
    "ALWAYS",
    "DEFAULT_SETTINGS",
    "DISAGREE_AFTER",
    "MAINTENANCE",
    "RUNNING_ALARMS",
    "Calendar",
    "ClockResult",
    "ClockState",
    "ClockValues",
    "FieldsChange",
    "Metric",
    "Policy",
    "SlaSettings",
    "StatusChange",
    "Window",
    "WorkingHours",
    "compute_clock",
    "covered_since",
    "live_state",
    "parse_duration",
    "parse_sla",
    "ticket_clock_values",
    "ticket_clocks",
    "vendor_disagrees",
    "worst",
]
