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


# --- the object store (S3) -------------------------------------------------------------------


class StorageError(MessagingError):
    """Base of the object-store errors, each with Amazon S3's code.

    A subclass of MessagingError, whose shape it shares (``code``, ``message``), so that the
    CLI and the console, which turn any MessagingError into its AWS code, report bucket errors
    with nothing new; ``except StorageError`` still picks out the object store's own.
    """


class NoSuchBucket(StorageError):
    code = "NoSuchBucket"


class NoSuchKey(StorageError):
    code = "NoSuchKey"


class InvalidRange(StorageError):
    """The requested range is not satisfiable: it starts at or past the end of the object."""

    code = "InvalidRange"


class InvalidBucketName(StorageError):
    code = "InvalidBucketName"


class KeyTooLongError(StorageError):
    code = "KeyTooLongError"


class MetadataTooLarge(StorageError):
    code = "MetadataTooLarge"


class InvalidArgument(StorageError):
    code = "InvalidArgument"


class AccessDenied(StorageError):
    """A presigned request whose signature does not match, or that has expired."""

    code = "AccessDenied"


# --- the key-value table (DynamoDB) ----------------------------------------------------------


class TableError(MessagingError):
    """Base of the table errors, each with Amazon DynamoDB's code.

    Like StorageError, a MessagingError in shape and in fact, so the CLI, the console and
    ``checks.integer`` handle table errors as they do the others; ``except TableError`` picks
    out the table's own.
    """


class TableNotFound(TableError):
    code = "ResourceNotFoundException"


class TableInUse(TableError):
    """A table created again with another key schema."""

    code = "ResourceInUseException"


class TableValidation(TableError):
    """Any malformed request: a bad name, key, value, item size, condition or limit."""

    code = "ValidationException"


class ConditionalCheckFailed(TableError):
    """A write's condition did not hold; nothing was changed."""

    code = "ConditionalCheckFailedException"
