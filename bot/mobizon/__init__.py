"""The Mobizon gateway: its one public face; it imports nothing else of smsbot's.

Everything the rest of smsbot uses is imported from here, never from the modules behind it:

- the Protocol its users depend on (:class:`SmsGateway`, a send's :data:`BeforeRequest` hook and
  :class:`SendWithheld`) and the real client (:class:`MobizonClient`, its :class:`Timeouts` and
  :class:`RetryPolicy`, the methods :data:`REQUEST_METHODS` and outcomes :data:`OUTCOMES` it
  reports per HTTP attempt);
- the SMS to send and the typed answers (:class:`OutgoingSms`, :class:`SmsStatus`,
  :class:`MessagePage`, :class:`Balance`, ...), Mobizon's statuses and its timestamp format;
- a send to many as a campaign (:class:`NewCampaign`, :class:`CampaignRecipient`, each
  recipient's row :class:`AddedRecipient` with its :class:`RecipientProblem`,
  :class:`RecipientsAdded`, :class:`CampaignSent`) and the limits of one request;
- every failure, as one exception tree under :class:`MobizonError`, with the :class:`Problem`
  a failure without a code carries;
- the one full-jitter :func:`backoff`, and the redaction of secrets and phone numbers in logs.

The modules are private: ``_types`` (values), ``_gateway`` (the Protocol), ``_client`` (the
Message methods) over ``_transport`` (lanes, retries, deadline, one HTTP exchange) and
``_account`` (the account methods) and ``_campaign`` (sends to many, with their values in
``_campaign_types``), ``_policy`` (timeouts and retries), ``_wire``, ``_account_wire`` and
``_campaign_wire`` (the wire format), ``_errors`` (the exception tree) with ``_refusals`` (what
Mobizon's codes mean), ``_failures`` (what a failed request means), ``_problems``,
``_api_data``, ``_backoff`` and ``_redact``.
"""

from bot.mobizon._backoff import backoff
from bot.mobizon._campaign_types import (
    RECIPIENT_CODES,
    AddedRecipient,
    CampaignRecipient,
    CampaignSent,
    CampaignType,
    NewCampaign,
    RecipientProblem,
    RecipientsAdded,
)
from bot.mobizon._campaign_wire import (
    MAX_FORM_FIELDS,
    MAX_RECIPIENTS_PER_REQUEST,
    recipient_chunks,
)
from bot.mobizon._client import REQUEST_METHODS, MobizonClient
from bot.mobizon._errors import (
    MobizonCampaignDeleteUnknownError,
    MobizonError,
    MobizonGatewayError,
    MobizonNetworkError,
    MobizonTimeoutError,
)
from bot.mobizon._failures import OUTCOMES
from bot.mobizon._gateway import BeforeRequest, SendWithheld, SmsGateway
from bot.mobizon._policy import DEFAULT_RETRY, DEFAULT_TIMEOUTS, RetryPolicy, Timeouts
from bot.mobizon._problems import Problem
from bot.mobizon._redact import REDACTED, RedactingFilter, mask_phone, redact
from bot.mobizon._refusals import (
    MobizonAccessDeniedError,
    MobizonAccountBlockedError,
    MobizonApiError,
    MobizonAuthError,
    MobizonCampaignNotDeletableError,
    MobizonCampaignNotFoundError,
    MobizonLimitError,
    MobizonMalformedRequestError,
    MobizonNotFoundError,
    MobizonRateLimitedError,
    MobizonValidationError,
    MobizonWrongServerError,
    error_for,
    is_insufficient_funds,
)
from bot.mobizon._transport import DEFAULT_BASE_URL, RequestObserver
from bot.mobizon._types import (
    FINAL_MESSAGE_STATUSES,
    PAGE_SIZES,
    SORT_FIELDS,
    TIMESTAMP_FORMAT,
    Balance,
    CampaignCounters,
    CampaignInfo,
    CampaignStatus,
    CommonStatus,
    ListCriteria,
    MessageItem,
    MessagePage,
    MessageStatus,
    ModerationStatus,
    OutgoingSms,
    SenderName,
    SentMessage,
    SmsStatus,
    Sort,
    format_timestamp,
    parse_timestamp,
)
from bot.mobizon._wire import MAX_IDS_PER_STATUS_REQUEST

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUTS",
    "FINAL_MESSAGE_STATUSES",
    "MAX_FORM_FIELDS",
    "MAX_IDS_PER_STATUS_REQUEST",
    "MAX_RECIPIENTS_PER_REQUEST",
    "OUTCOMES",
    "PAGE_SIZES",
    "RECIPIENT_CODES",
    "REDACTED",
    "REQUEST_METHODS",
    "SORT_FIELDS",
    "TIMESTAMP_FORMAT",
    "AddedRecipient",
    "Balance",
    "BeforeRequest",
    "CampaignCounters",
    "CampaignInfo",
    "CampaignRecipient",
    "CampaignSent",
    "CampaignStatus",
    "CampaignType",
    "CommonStatus",
    "ListCriteria",
    "MessageItem",
    "MessagePage",
    "MessageStatus",
    "MobizonAccessDeniedError",
    "MobizonAccountBlockedError",
    "MobizonApiError",
    "MobizonAuthError",
    "MobizonCampaignDeleteUnknownError",
    "MobizonCampaignNotDeletableError",
    "MobizonCampaignNotFoundError",
    "MobizonClient",
    "MobizonError",
    "MobizonGatewayError",
    "MobizonLimitError",
    "MobizonMalformedRequestError",
    "MobizonNetworkError",
    "MobizonNotFoundError",
    "MobizonRateLimitedError",
    "MobizonTimeoutError",
    "MobizonValidationError",
    "MobizonWrongServerError",
    "ModerationStatus",
    "NewCampaign",
    "OutgoingSms",
    "Problem",
    "RecipientProblem",
    "RecipientsAdded",
    "RedactingFilter",
    "RequestObserver",
    "RetryPolicy",
    "SendWithheld",
    "SenderName",
    "SentMessage",
    "SmsGateway",
    "SmsStatus",
    "Sort",
    "Timeouts",
    "backoff",
    "error_for",
    "format_timestamp",
    "is_insufficient_funds",
    "mask_phone",
    "parse_timestamp",
    "recipient_chunks",
    "redact",
]
