"""Admin actions on GPU processes (terminate, pause, resume): who may, on which, and the audit trail."""

from gpu_sentinel.process_actions.audit import ActionLog, ActionRecord
from gpu_sentinel.process_actions.control import ACTIONS, ProcessAction, ProcessControl

__all__ = ["ACTIONS", "ActionLog", "ActionRecord", "ProcessAction", "ProcessControl"]
