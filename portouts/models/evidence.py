"""Evidence about who owns the numbers a port-out asks for.

`PhoneNumber` is the account's inventory as Telnyx lists it (the sync writes it, like the
rest of the cache); `Customer` and `CustomerNumber` are the team's own records of its
customers (imported from CSV and edited in the admin), matched to numbers by
`customer_reference` or by an explicit number link.
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import models


def validate_e164(value: str) -> None:
    """A phone number written in E.164 (`+` and digits) that is a possible number."""
    text = (value or "").strip()
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        parsed = None
    if (
        parsed is None
        or not text.startswith("+")
        or not text[1:].isdigit()
        or not phonenumbers.is_possible_number(parsed)
    ):
        raise ValidationError(
            "%(value)s is not a phone number in E.164 form (e.g. +13125550142).",
            code="e164",
            params={"value": value},
        )


class PhoneNumberQuerySet(models.QuerySet["PhoneNumber"]):
    def present(self) -> PhoneNumberQuerySet:
        """Numbers Telnyx still lists on the account."""
        return self.filter(vanished_at__isnull=True)


class PhoneNumber(models.Model):
    """A number of the account's inventory (`GET /phone_numbers`), as last synced."""

    number = models.CharField(max_length=32, unique=True, help_text="E.164")
    telnyx_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=32, blank=True, help_text="e.g. active, port-out-pending")
    customer_reference = models.CharField(max_length=255, blank=True, db_index=True)
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=32, blank=True, help_text="purchased or ported (in)")
    connection_id = models.CharField(max_length=64, blank=True)
    purchased_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(help_text="When the cache last took this row from Telnyx")
    vanished_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when Telnyx no longer lists it on the account"
    )

    objects = PhoneNumberQuerySet.as_manager()

    class Meta:
        verbose_name = "phone number"
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number


class Customer(models.Model):
    """A customer as the team knows it: the record a port-out's names and address are
    checked against."""

    account_number = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=255)
    service_address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    state = models.CharField(max_length=64, blank=True)
    zip = models.CharField(max_length=32, blank=True)
    contact_name = models.CharField(
        max_length=255, blank=True, help_text="The person who may authorize a port for it"
    )
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=32, blank=True, validators=[validate_e164])
    customer_reference = models.CharField(
        max_length=255,
        blank=True,
        help_text="Matches the customer_reference Telnyx holds on the customer's numbers",
    )
    notes = models.TextField(blank=True)
    portout_freeze_until = models.DateField(
        null=True, blank=True, help_text="The customer asked that no number leave before then"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer_reference"],
                condition=~models.Q(customer_reference=""),
                name="customer_reference_unique",
                violation_error_message="Another customer already has this customer reference.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"


class CustomerNumber(models.Model):
    """A number tied to a customer by hand, for numbers Telnyx holds no (or a wrong)
    customer_reference for; it wins over the reference."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="numbers")
    number = models.CharField(max_length=32, unique=True, validators=[validate_e164])

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return self.number
