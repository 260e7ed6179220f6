"""Errors of the messaging blocks, each carrying the error code AWS uses for the same mistake.

The code lets callers (and the CLI) speak AWS's language: ``QueueDoesNotExist`` is what SQS
answers for an unknown queue, whichever engine is underneath.
"""

from __future__ import annotations


class MessagingError(Exception):
    """Base class: ``code`` is AWS's error code, ``message`` what was wrong and where."""

    code = "InternalError"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(f"{self.code}: {message}")


class QueueDoesNotExist(MessagingError):
    code = "AWS.SimpleQueueService.NonExistentQueue"


class TopicDoesNotExist(MessagingError):
    code = "NotFound"


class ResourceNotFound(MessagingError):
    """EventBridge's code for an unknown bus, rule or archive."""

    code = "ResourceNotFoundException"


class ResourceAlreadyExists(MessagingError):
    code = "ResourceAlreadyExistsException"


class InvalidEventPatternError(MessagingError):
    code = "InvalidEventPatternException"


class LimitExceeded(MessagingError):
    code = "LimitExceededException"


class EventBridgeValidation(MessagingError):
    code = "ValidationException"


class MalformedDetail(MessagingError):
    code = "MalformedDetail"


class InvalidParameter(MessagingError):
    """SNS's code for a bad parameter (SQS says InvalidParameterValue)."""

    code = "InvalidParameter"


class QueueAlreadyExists(MessagingError):
    code = "QueueAlreadyExists"


class InvalidParameterValue(MessagingError):
    code = "InvalidParameterValue"


class InvalidAttributeName(MessagingError):
    code = "InvalidAttributeName"


class InvalidAttributeValue(MessagingError):
    code = "InvalidAttributeValue"


class MessageTooLarge(InvalidParameterValue):
    """SQS reports an oversized message as InvalidParameterValue."""


class InvalidMessageContents(MessagingError):
    code = "InvalidMessageContents"


class ReceiptHandleIsInvalid(MessagingError):
    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(MessagingError):
    code = "AWS.SimpleQueueService.MessageNotInflight"


class EmptyBatchRequest(MessagingError):
    code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(MessagingError):
    code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(MessagingError):
    code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(MessagingError):
    code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class PurgeQueueInProgress(MessagingError):
    code = "AWS.SimpleQueueService.PurgeQueueInProgress"


class InvalidEngineUrl(MessagingError):
    code = "InvalidEngineUrl"
