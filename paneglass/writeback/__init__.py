"""Write-back: what an operator asks of vendors and of cases, stored before anything is sent.

``service``  plan an action (the dry run) and queue it in the outbox (:class:`WriteBack`)
``cases``    case and link edits (:class:`CaseEdits`)
``actor``    who is acting, for the audit log (:func:`current_actor`)
``acknowledgements``  acknowledge or snooze notifications (:class:`Acknowledgements`)

The collector sends what is queued (:mod:`paneglass.collect.outbox_sender`).
"""

from paneglass.writeback.acknowledgements import Acknowledgements
from paneglass.writeback.actor import current_actor
from paneglass.writeback.cases import CaseEdits
from paneglass.writeback.service import Preview, WriteBack, handoff_from

__all__ = ["Acknowledgements", "CaseEdits", "Preview", "WriteBack", "current_actor", "handoff_from"]
