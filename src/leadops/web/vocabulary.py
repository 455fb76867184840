"""The identifiers the pages show as words (touch stages, channels, activity types, roles,
reports…), marked here so that the catalogs translate them. The pages call ``_(identifier)``."""

from __future__ import annotations

from leadops.web.render import N_

TOUCH_STAGES = (
    N_("untouched"),
    N_("touch_1"),
    N_("touch_2"),
    N_("touch_3"),
    N_("touch_4"),
    N_("connected"),
)
CHANNELS = (N_("call"), N_("email"), N_("voicemail"), N_("sms"), N_("social"), N_("meeting"))
OUTCOMES = (N_("no_answer"), N_("voicemail_left"), N_("sent"), N_("bounced"), N_("replied"))
ACTIVITY_TYPES = (
    N_("page_view"),
    N_("form_submit"),
    N_("content_download"),
    N_("email_open"),
    N_("email_click"),
    N_("email_bounce"),
    N_("unsubscribe"),
    N_("webinar_register"),
    N_("webinar_attend"),
    N_("webinar_no_show"),
    N_("survey_answer"),
    N_("tradeshow_attend"),
    N_("booth_visit"),
    N_("trial_signup"),
)
EVENT_KINDS = (
    N_("created"),
    N_("level"),
    N_("lifecycle_stage"),
    N_("owner"),
    N_("status"),
    N_("team"),
    N_("temperature"),
    N_("validity"),
)
PIPELINE_STAGES = (
    N_("to_contact"),
    N_("contacted"),
    N_("follow_up"),
    N_("proposal_draft"),
    N_("proposal_sent"),
    N_("won"),
    N_("lost"),
)
QUOTA_WORDS = (N_("attainment"), N_("appointments"), N_("opportunities"), N_("won_amount"))
OPPORTUNITY_EVENT_KINDS = (
    N_("stage"),
    N_("amount"),
    N_("expected_close_on"),
    N_("owner"),
    N_("lost_reason"),
)
TIMELINE_KINDS = (
    N_("activity"),
    N_("event"),
    N_("touch"),
    N_("score"),
    N_("qualification"),
    N_("qualified"),
)
ROLES = (N_("admin"), N_("manager"), N_("member"), N_("marketing"))
TOKEN_SCOPES = (N_("read"), N_("write"))
TEAM_KINDS = (N_("inside_sales"), N_("sales"))
REPORTS = (
    N_("campaigns"),
    N_("cohort"),
    N_("connect-patterns"),
    N_("dwell"),
    N_("forecast"),
    N_("funnel"),
    N_("kpis"),
    N_("new-leads"),
    N_("pipeline"),
    N_("predictions"),
    N_("recycle-reasons"),
    N_("reengagement"),
    N_("revenue"),
    N_("score-jumps"),
    N_("sources"),
    N_("status-board"),
    N_("tasks"),
)
REPORT_WORDS = (
    N_("crm_source"),
    N_("external_id"),
    N_("model_version"),
    N_("factors"),
    N_("day"),
    N_("week"),
    N_("month"),
    N_("quarter"),
    N_("year"),
    N_("period"),
    N_("cohort"),
    N_("leads"),
    N_("mql"),
    N_("sql"),
    N_("appointment"),
    N_("won"),
    N_("past_deadline"),
    N_("by_state"),
    N_("touch_stage"),
    N_("by_date_status"),
    N_("by_reason"),
    N_("backtest"),
    N_("backtest_mape"),
    N_("today"),
    N_("this_week"),
    N_("this_month"),
    N_("by_stage"),
)
SORT_KEYS = (
    N_("created"),
    N_("score"),
    N_("company"),
    N_("last_activity"),
    N_("due"),
    N_("probability"),
)
IMPORT_KINDS = (N_("leads"), N_("events"), N_("deals"), N_("campaign-members"))
JOB_STATES = (N_("running"), N_("done"), N_("failed"))
NOTIFICATIONS = (
    N_("routing_failed"),
    N_("account_lead_assigned"),
    N_("lead_handed_off"),
    N_("touch_overdue"),
    N_("escalation"),
    N_("sla_reassigned"),
    N_("lead_reassigned_away"),
    N_("approach_request"),
    N_("lead_recycled"),
    N_("touch_due_soon"),
    N_("manager_queue"),
    N_("approach_due_soon"),
    N_("approach_overdue"),
    N_("lead_assigned"),
    N_("opportunity_assigned"),
    N_("follow_up_due"),
    N_("follow_up_assigned"),
)
LIFECYCLE_STAGES = (N_("inquiry"), N_("mql"), N_("sql"), N_("opportunity"), N_("customer"))
TEMPERATURES = (N_("cold"), N_("warm"), N_("hot"))
