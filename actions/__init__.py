"""Custom actions of the GovBot assistant (rasa-sdk), run by the action server.

The action server imports this package and registers every Action subclass in the
modules imported here.
"""

from actions.conversation_deletion import ActionDeleteConversation
from actions.fallback import ActionDefaultAskAffirmation
from actions.handoff import ActionDefaultFallback, ActionHandoff
from actions.handoff_contact import ActionHandoffContact, ValidateHandoffContactForm
from actions.knowledge import ActionOutOfScope, ActionServiceKnowledge
from actions.session import ActionSessionStart
from actions.status import ActionCheckStatus

__all__ = [
    "ActionCheckStatus",
    "ActionDefaultAskAffirmation",
    "ActionDefaultFallback",
    "ActionDeleteConversation",
    "ActionHandoff",
    "ActionHandoffContact",
    "ActionOutOfScope",
    "ActionServiceKnowledge",
    "ActionSessionStart",
    "ValidateHandoffContactForm",
]
