"""All tables. Import from here so that the metadata is complete."""

from leadops.models.access import ApiToken, SavedView, SignInFailure, WebSession
from leadops.models.accounts import Account
from leadops.models.activities import ACTIVITY_TYPES, Activity, ActivityType, ScoreLedger
from leadops.models.base import Base, column_length
from leadops.models.cadence import FollowUpTask, LeadNote, Qualification, Task, Touch
from leadops.models.campaigns import Campaign, CampaignMember
from leadops.models.leads import Lead, LeadAssignment, LeadEvent, LeadSearchKey
from leadops.models.opportunities import Opportunity, OpportunityEvent, Quota
from leadops.models.org import OutOfOffice, RoutingCredit, Team, User
from leadops.models.predictions import LeadPrediction, PredictionModel
from leadops.models.system import (
    ForecastModel,
    ImportFile,
    ImportFlag,
    ImportJob,
    ImportReject,
    Notification,
    RulesVersion,
)
from leadops.models.webhooks import WebhookReceipt, WebhookRefusal, WebhookSource

__all__ = [
    "ACTIVITY_TYPES",
    "Account",
    "Activity",
    "ActivityType",
    "ApiToken",
    "Base",
    "Campaign",
    "CampaignMember",
    "ImportFlag",
    "ImportFile",
    "ImportJob",
    "ImportReject",
    "Lead",
    "LeadAssignment",
    "LeadEvent",
    "LeadNote",
    "LeadPrediction",
    "LeadSearchKey",
    "Notification",
    "Opportunity",
    "OpportunityEvent",
    "OutOfOffice",
    "PredictionModel",
    "RoutingCredit",
    "RulesVersion",
    "SavedView",
    "FollowUpTask",
    "ForecastModel",
    "ScoreLedger",
    "SignInFailure",
    "Qualification",
    "Quota",
    "Task",
    "Team",
    "Touch",
    "User",
    "WebSession",
    "WebhookReceipt",
    "WebhookRefusal",
    "WebhookSource",
    "column_length",
]
