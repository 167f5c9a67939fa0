"""What the dashboard keeps for alerting: channels, rules and their routes, the notifications
it sends (one row each, the delivery log), escalations, claims and per-user preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models

from portouts.choices import (
    AlertKind,
    ChannelKind,
    DeliveryMethod,
    NotificationState,
    RouteRole,
)
from portouts.models.cache import PortOut


class AlertChannel(models.Model):
    """A place alerts are delivered to. The URL (Slack/Teams/JSON webhook) or the e-mail
    addresses are stored encrypted, or named by an environment variable; never shown whole."""

    name = models.CharField(max_length=100, unique=True, help_text='e.g. "#porting"')
    kind = models.CharField(max_length=16, choices=ChannelKind.choices)
    target_encrypted = models.TextField(blank=True, editable=False)
    target_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="Name of an environment variable holding the URL, instead of storing it",
    )
    target_masked = models.CharField(max_length=255, blank=True, editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class AlertRule(models.Model):
    """Which event alerts whom. Recipients live in routes: the primary one, an optional
    after-hours one (used outside the business hours, when set) and escalation tiers."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    enabled = models.BooleanField(default=True)
    thresholds_hours = models.JSONField(
        default=list, blank=True, help_text="Due soon: hours left that alert, e.g. [8, 2]"
    )
    stale_minutes = models.PositiveIntegerField(
        default=30, help_text="Sync rule: the cache older than this is an alert"
    )
    business_timezone = models.CharField(max_length=64, blank=True, help_text="e.g. Europe/Paris")
    business_weekdays = models.JSONField(
        default=list, blank=True, help_text="0 = Monday … 6 = Sunday; empty: no business hours"
    )
    business_start = models.TimeField(null=True, blank=True)
    business_end = models.TimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def has_business_hours(self) -> bool:
        return bool(self.business_weekdays and self.business_start and self.business_end)


class AlertRoute(models.Model):
    """One set of recipients of a rule: a group, users and channels."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE, related_name="routes")
    role = models.CharField(max_length=16, choices=RouteRole.choices, default=RouteRole.PRIMARY)
    position = models.PositiveSmallIntegerField(
        default=0, help_text="Escalation tiers: 1 is the first tier after the recipients"
    )
    delay_minutes = models.PositiveIntegerField(
        default=0, help_text="Escalation tiers: minutes without acknowledgement before this tier"
    )
    group = models.ForeignKey(Group, null=True, blank=True, on_delete=models.SET_NULL)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True)
    channels = models.ManyToManyField(AlertChannel, blank=True)

    class Meta:
        ordering = ["rule", "role", "position"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "role", "position"], name="alert_route_unique")
        ]

    def __str__(self) -> str:
        label = self.get_role_display()
        return f"{self.rule}: {label} {self.position}" if self.role == RouteRole.TIER else label


class Notification(models.Model):
    """One message to one channel or one person: the unit of delivery and of the log.

    `dedup_key` is unique: the same alert (rule, port-out, occasion, tier, recipient) is one
    row however many syncs, webhooks or workers see it."""

    rule = models.ForeignKey(AlertRule, null=True, on_delete=models.SET_NULL)
    portout = models.ForeignKey(PortOut, null=True, blank=True, on_delete=models.CASCADE)
    channel = models.ForeignKey(AlertChannel, null=True, blank=True, on_delete=models.SET_NULL)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE
    )
    by_email = models.BooleanField(default=False, help_text="A person's copy also goes by e-mail")
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    occasion = models.CharField(max_length=100, help_text='e.g. "2h", a comment id, "new"')
    tier = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    dedup_key = models.CharField(max_length=255, unique=True)
    state = models.CharField(
        max_length=16, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="notification_due"),
            models.Index(fields=["portout", "created_at"], name="notification_portout"),
            models.Index(
                fields=["user"], name="notification_unread", condition=models.Q(read_at=None)
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Escalation(models.Model):
    """An unacknowledged due-soon alert climbing the tiers of its rule, until a claim, a
    decision or the port-out leaving pending stops it."""

    rule = models.ForeignKey(AlertRule, on_delete=models.CASCADE)
    portout = models.ForeignKey(PortOut, on_delete=models.CASCADE, related_name="escalations")
    occasion = models.CharField(max_length=100)
    tier = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField()
    tier_at = models.DateTimeField(help_text="When the current tier was alerted")
    next_at = models.DateTimeField(null=True, blank=True, help_text="None: no further tier")
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "portout", "occasion"], name="escalation_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_at"],
                name="escalation_active",
                condition=models.Q(stopped_at=None),
            )
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.portout_id} tier {self.tier}"


class PortOutClaim(models.Model):
    """A reviewer has taken a port-out; others see it until it is released or expires."""

    portout = models.OneToOneField(
        PortOut, primary_key=True, on_delete=models.CASCADE, related_name="claim"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.portout_id} by {self.user}"


class AlertPreference(models.Model):
    """What reaches one person: rules they muted, e-mail or the dashboard only, quiet hours
    (no e-mail then, the dashboard still shows it)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE
    )
    method = models.CharField(
        max_length=16, choices=DeliveryMethod.choices, default=DeliveryMethod.EMAIL
    )
    muted_rules = models.ManyToManyField(AlertRule, blank=True)
    quiet_timezone = models.CharField(max_length=64, blank=True, default="UTC")
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Preferences of {self.user}"
