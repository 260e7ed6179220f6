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


# --- the data catalog (AWS Glue) -------------------------------------------------------------


class CatalogError(MessagingError):
    """Base of the catalog errors, each with AWS Glue's code.

    A MessagingError in shape (``code``, ``message``) like StorageError and TableError, so the
    CLI and the console report catalog errors with nothing new; ``except CatalogError`` picks
    out the catalog's own (the crawler's too).
    """


class EntityNotFound(CatalogError):
    """An unknown database, table, table version or partition."""

    code = "EntityNotFoundException"


class AlreadyExists(CatalogError):
    """A database, table or partition created again."""

    code = "AlreadyExistsException"


class InvalidInput(CatalogError):
    """Any malformed request: a bad name, type, location, value, expression, token or limit."""

    code = "InvalidInputException"


class ConcurrentModification(CatalogError):
    """A table changed between the read and the write of an update; nothing was written."""

    code = "ConcurrentModificationException"


# --- the data stream (Kinesis Data Streams) ---------------------------------------------------


class StreamError(MessagingError):
    """Base of the stream errors, each with Amazon Kinesis Data Streams' code.

    A MessagingError in shape (``code``, ``message``) like StorageError and TableError, so the
    CLI and the console report stream errors with nothing new; ``except StreamError`` picks out
    the stream's own.
    """


class StreamNotFound(StreamError):
    """An unknown stream or shard, or an iterator whose stream was deleted."""

    code = "ResourceNotFoundException"


class StreamInUse(StreamError):
    """A stream created again."""

    code = "ResourceInUseException"


class StreamValidation(StreamError):
    """A parameter of the wrong type or shape: a bad name, key, record, count or limit."""

    code = "ValidationException"


class InvalidStreamArgument(StreamError):
    """A well-formed parameter that cannot be used: a record or request over its size, a hash
    key out of range, a sequence number from elsewhere, a bad iterator, a retention period out
    of bounds or in the wrong direction."""

    code = "InvalidArgumentException"


class CheckpointMovedBackwards(InvalidStreamArgument):
    """A consumer's checkpoint set before the one it holds (KCL refuses this too)."""


class ExpiredIterator(StreamError):
    """A shard iterator used more than five minutes after it was returned."""

    code = "ExpiredIteratorException"


class StreamLimitExceeded(StreamError):
    """More shards than a stream may have."""

    code = "LimitExceededException"


# --- the delivery stream (Amazon Data Firehose) ----------------------------------------------


class DeliveryError(MessagingError):
    """Base of the delivery stream's errors, each with Amazon Data Firehose's code.

    A MessagingError in shape (``code``, ``message``) like the other blocks' families, so the
    CLI and the console report them with nothing new; ``except DeliveryError`` picks out the
    delivery stream's own.
    """


class DeliveryValidation(DeliveryError):
    """A request of the wrong shape: no records, more than 500, a record that is not bytes or
    is over 1,000 KiB."""

    code = "ValidationException"


class InvalidDeliveryArgument(DeliveryError):
    """A configuration that cannot be used (a bad name, prefix, query, schema or hint), or a
    request over Firehose's 4 MiB."""

    code = "InvalidArgumentException"


class DeliveryStreamInUse(DeliveryError):
    """A delivery stream opened with another configuration while records it buffered under its
    own are still waiting."""

    code = "ResourceInUseException"
