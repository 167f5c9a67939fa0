"""The local cache of Telnyx port-outs: Telnyx owns every row here, the sync writes them."""

from __future__ import annotations

from django.db import models
from django.urls import reverse

from portouts.choices import (
    CommentAuthor,
    DocumentType,
    PortOutStatus,
    status_label,
)


class PortOutQuerySet(models.QuerySet["PortOut"]):
    def present(self) -> PortOutQuerySet:
        """Port-outs Telnyx still lists (not flagged as vanished by a full sync)."""
        return self.filter(vanished_at__isnull=True)

    def pending(self) -> PortOutQuerySet:
        return self.present().filter(status=PortOutStatus.PENDING)

    def by_reference(self, reference: str) -> PortOutQuerySet:
        """The port-out a person named by its Telnyx id or its support key (PO_779658,
        matched as typed or upper-cased, so the index on support_key serves it)."""
        keys = {reference, reference.upper()}
        return self.filter(models.Q(id=reference) | models.Q(support_key__in=keys))


class PortOut(models.Model):
    """A cached Telnyx port-out request (PortoutDetails), one row per Telnyx id."""

    id = models.CharField(primary_key=True, max_length=64, help_text="Telnyx port-out id")
    status = models.CharField(max_length=32, db_index=True)
    phone_numbers = models.JSONField(default=list, help_text="E.164 numbers, as Telnyx lists them")
    first_number = models.CharField(max_length=32, blank=True, db_index=True)
    number_count = models.PositiveIntegerField(default=0)
    country_code = models.CharField(
        max_length=2, blank=True, db_index=True, help_text="ISO country of the first number"
    )
    authorized_name = models.CharField(max_length=255, blank=True)
    end_user_name = models.CharField(max_length=255, blank=True, db_index=True)
    service_address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=64, blank=True)
    zip = models.CharField(max_length=32, blank=True)
    carrier_name = models.CharField(max_length=255, blank=True, db_index=True)
    spid = models.CharField(max_length=64, blank=True, db_index=True)
    current_carrier = models.CharField(max_length=255, blank=True)
    vendor = models.CharField(max_length=64, blank=True)
    pon = models.CharField(max_length=128, blank=True, db_index=True)
    support_key = models.CharField(max_length=64, blank=True, db_index=True)
    lsr = models.JSONField(default=list, help_text="Links to the Local Service Request")
    reason = models.TextField(blank=True, help_text="Empty when Telnyx sends null")
    rejection_code = models.IntegerField(null=True, blank=True)
    foc_date = models.DateTimeField(null=True, blank=True, db_index=True)
    requested_foc_date = models.DateTimeField(null=True, blank=True)
    already_ported = models.BooleanField(default=False)
    host_messaging = models.BooleanField(default=False)
    user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    inserted_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    ported_out_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the status became ported"
    )
    raw = models.JSONField(default=dict, help_text="The last API object, as received")
    synced_at = models.DateTimeField(help_text="When the cache last took this row from Telnyx")
    vanished_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when a full sync no longer found it in Telnyx"
    )
    details_synced_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the last complete read of this port-out (row, comments, documents and, "
        "while pending, rejection codes) began; events received before it are reflected",
    )
    details_stale = models.BooleanField(
        default=False,
        help_text="A read of its comments, documents or codes failed; the next sync retries it",
    )

    objects = PortOutQuerySet.as_manager()

    class Meta:
        verbose_name = "port-out"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="portout_status_created"),
            models.Index(fields=["status", "foc_date"], name="portout_status_foc"),
            # The list: listed rows in creation order (default sort, deep pages, counts).
            models.Index(fields=["vanished_at", "created_at", "id"], name="portout_listed_created"),
            # The list filtered by status: index-only counts, FOC-date order.
            models.Index(
                fields=["status", "vanished_at", "foc_date", "id"], name="portout_status_listed_foc"
            ),
            # The queue's counts by status of listed rows, from the index alone.
            models.Index(fields=["vanished_at", "status"], name="portout_listed_status"),
            # The freshness token of the list pages (latest sync).
            models.Index(fields=["synced_at"], name="portout_synced"),
            # The sync retries these.
            models.Index(
                fields=["details_stale"],
                name="portout_details_stale",
                condition=models.Q(details_stale=True),
            ),
        ]
        permissions = [
            (
                "review_portout",
                "Can authorize, reject, comment on and attach documents to port-outs",
            ),
            ("request_report", "Can request CSV reports"),
            ("sync_now", "Can start a sync with Telnyx"),
        ]

    def __str__(self) -> str:
        return f"{self.support_key or self.id} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("portouts:detail", args=[self.id])

    @property
    def status_label(self) -> str:
        return status_label(self.status)


class PortOutNumber(models.Model):
    """One phone number of a port-out, so any number finds its requests by index."""

    portout = models.ForeignKey(PortOut, on_delete=models.CASCADE, related_name="numbers")
    number = models.CharField(max_length=32, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["portout", "number"], name="portout_number_unique")
        ]

    def __str__(self) -> str:
        return self.number


class Comment(models.Model):
    """A comment on a port-out, by our team, the gaining carrier or Telnyx staff."""

    id = models.CharField(primary_key=True, max_length=64)
    portout = models.ForeignKey(PortOut, on_delete=models.CASCADE, related_name="comments")
    body = models.TextField()
    user_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.body[:60]

    @staticmethod
    def author(user_id: str | None, owner: str | None) -> CommentAuthor:
        """Who wrote a comment, from Telnyx's `user_id` beside the port-out's own (`owner`,
        the account's user): null is Telnyx staff, the account's user our team, any other
        user the gaining carrier. Webhook payloads carry the same `user_id`, hence static."""
        if not user_id:
            return CommentAuthor.TELNYX_STAFF
        return CommentAuthor.OUR_TEAM if user_id == owner else CommentAuthor.GAINING_CARRIER


class SupportingDocument(models.Model):
    """A document (LOA or invoice) attached to a port-out in Telnyx."""

    Type = DocumentType

    id = models.CharField(primary_key=True, max_length=64)
    portout = models.ForeignKey(
        PortOut, on_delete=models.CASCADE, related_name="supporting_documents"
    )
    type = models.CharField(max_length=32)
    document_id = models.CharField(max_length=64)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.document_id}"


class RejectionCode(models.Model):
    """A rejection code Telnyx accepts for one port-out (the set depends on its numbers)."""

    portout = models.ForeignKey(PortOut, on_delete=models.CASCADE, related_name="rejection_codes")
    code = models.IntegerField()
    description = models.CharField(max_length=255)
    reason_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["portout", "code"], name="rejection_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}"


class PortOutEvent(models.Model):
    """A Telnyx port-out event, from the Events API or a signed webhook; stored once per id.

    It is processed once the cache holds what it announces: its port-out read in full after
    the event was received (`received_at <= PortOut.details_synced_at`), or found gone.
    """

    class Source(models.TextChoices):
        API = "api", "Events API"
        WEBHOOK = "webhook", "Webhook"

    #: ids are stored whole; a longer one is refused rather than cut (two cut ids could collide)
    ID_MAX_LENGTH = 255

    id = models.CharField(primary_key=True, max_length=ID_MAX_LENGTH)
    event_type = models.CharField(max_length=64, db_index=True)
    portout_id = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    payload_status = models.CharField(max_length=32, blank=True)
    available_notification_methods = models.JSONField(default=list)
    created_at = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the cache was found to hold what this event announces",
    )

    class Meta:
        verbose_name = "port-out event"
        ordering = ["-created_at"]
        indexes = [
            # The status events of given port-outs (timelines, the queue's recent activity):
            # without it SQLite reads every status event through the event_type index.
            models.Index(fields=["portout_id", "event_type"], name="event_portout_type"),
            # Every sync looks for these.
            models.Index(
                fields=["portout_id", "received_at"],
                name="event_unprocessed",
                condition=models.Q(processed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"
