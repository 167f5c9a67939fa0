"""Forms of the dashboard: list options, the decision panel, comments and uploads."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError

from portouts.choices import DocumentType, PortOutStatus
from portouts.documents import ACCEPTED_TYPES_TEXT, SNIFF_BYTES, sniff_document_type
from portouts.models import RejectionCode
from portouts.phones import parse_complete_numbers
from portouts.review import rules
from portouts.telnyx import MAX_DOCUMENT_BYTES

PAGE_SIZES = (25, 50, 100, 250)
DEFAULT_PAGE_SIZE = 50
#: Shown when a file is refused for its size, on the form and by the upload handler.
TOO_LARGE_MESSAGE = (
    f"The file is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB, Telnyx's limit."
)

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


def reversed_range_message(start_label: str, start: date) -> str:
    """What a person reads when a range ends before it starts (every form says the same)."""
    return f"This day is before “{start_label}” ({start:%Y-%m-%d}), so nothing would match."


class DateRangeForm(forms.Form):
    """A form with day ranges: an end before its start is an error on the end field, never
    a silent empty result. Subclasses list their (start, end) field pairs."""

    date_ranges: ClassVar[tuple[tuple[str, str], ...]] = ()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for start_name, end_name in self.date_ranges:
            start, end = data.get(start_name), data.get(end_name)
            if start is not None and end is not None and end < start:
                label = str(self.fields[start_name].label or start_name)
                self.add_error(end_name, reversed_range_message(label, start))
        return data


class ListOptionsForm(forms.Form):
    """Options of the list that are not filters: rows per page."""

    per_page = forms.TypedChoiceField(
        label="Rows per page",
        choices=[(n, str(n)) for n in PAGE_SIZES],
        coerce=int,
        required=False,
        initial=DEFAULT_PAGE_SIZE,
        empty_value=DEFAULT_PAGE_SIZE,  # type: ignore[arg-type]
    )

    def page_size(self) -> int:
        if self.is_valid():
            return self.cleaned_data["per_page"] or DEFAULT_PAGE_SIZE
        return DEFAULT_PAGE_SIZE


class IdempotencyKeyField(forms.CharField):
    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if value and not IDEMPOTENCY_KEY.match(value):
            raise ValidationError("The form was tampered with; reload the page.")
        return value


class AuthorizeForm(forms.Form):
    """The authorize panel; the reason it sends is `rules.authorize_reason`."""

    note = forms.CharField(
        label="Note",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    host_messaging = forms.BooleanField(
        label="Keep messaging hosted on Telnyx after the port",
        required=False,
    )
    idempotency_key = IdempotencyKeyField()

    def __init__(self, *args: Any, username: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.username = username
        self.fields["note"].help_text = rules.authorize_note_help(username=username)

    def reason_to_send(self) -> str:
        return rules.authorize_reason(self.cleaned_data.get("note", ""), username=self.username)


class RejectForm(forms.Form):
    """The reject panel, over the eligible codes the request read (`rules.EligibleCodes`)."""

    rejection_code = forms.TypedChoiceField(label="Rejection code", coerce=int, choices=())
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=rules.REJECT_REASON_HELP,
    )
    idempotency_key = IdempotencyKeyField()

    def __init__(self, *args: Any, codes: rules.EligibleCodes, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.codes = codes
        field = self.fields["rejection_code"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "Choose a code…")] + [(o.code, o.label) for o in codes.options]

    @property
    def code(self) -> RejectionCode | None:
        return self.codes.get(getattr(self, "cleaned_data", {}).get("rejection_code"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        code = self.codes.get(data.get("rejection_code"))
        data["reason"] = reason = (data.get("reason") or "").strip()
        problem = rules.reason_problem(code, reason) if code is not None else None
        if problem:
            self.add_error("reason", problem)
        return data

    def reason_to_send(self) -> str:
        code = self.code
        reason: str = self.cleaned_data.get("reason", "")
        return rules.reject_reason(reason, code) if code is not None else reason


class CommentForm(forms.Form):
    body = forms.CharField(
        label="Comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Posted to Telnyx; their porting team can read it.",
    )
    idempotency_key = IdempotencyKeyField()

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError("Write a comment first.")
        return body


class DocumentUploadForm(forms.Form):
    document_type = forms.ChoiceField(
        label="Type",
        choices=[
            (DocumentType.LOA.value, "Letter of authorization (LOA)"),
            (DocumentType.INVOICE.value, "Invoice"),
        ],
    )
    file = forms.FileField(
        label="File",
        help_text=f"{ACCEPTED_TYPES_TEXT}, at most {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.tif,.tiff"}),
    )
    idempotency_key = IdempotencyKeyField()
    #: Rendered on the file input, so the browser refuses a larger file before sending it.
    max_bytes = MAX_DOCUMENT_BYTES
    too_large_message = TOO_LARGE_MESSAGE

    def __init__(self, *args: Any, too_large: bool = False, **kwargs: Any) -> None:
        """`too_large`: the upload handler stopped reading the file past the limit."""
        super().__init__(*args, **kwargs)
        self.too_large = too_large

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.too_large:
            # The handler dropped the file, so the field only knows it is missing.
            self.errors.pop("file", None)
            self.add_error("file", TOO_LARGE_MESSAGE)
        return data

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_DOCUMENT_BYTES:
            raise ValidationError(f"“{upload.name}”: {TOO_LARGE_MESSAGE}")
        head = upload.read(SNIFF_BYTES)
        upload.seek(0)
        content_type = sniff_document_type(head)
        if content_type is None:
            raise ValidationError(
                f"“{upload.name}” is not a {ACCEPTED_TYPES_TEXT} file; "
                "Telnyx accepts only those types."
            )
        self.cleaned_data["content_type"] = content_type
        return upload


class TelnyxReportForm(DateRangeForm):
    """Filters of an `export_portouts_csv` report that Telnyx builds (all optional)."""

    date_ranges = (("created_after", "created_before"),)

    statuses = forms.MultipleChoiceField(
        label="Statuses",
        required=False,
        choices=PortOutStatus.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    created_after = forms.DateField(
        label="Created from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_before = forms.DateField(
        label="Created to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phone_numbers = forms.CharField(
        label="Phone numbers",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Complete numbers, e.g. (206) 555-0100 or +1 206 555 0100, separated by "
        "commas or new lines.",
    )
    end_user_name = forms.CharField(label="End user name", required=False, max_length=255)
    customer_references = forms.CharField(
        label="Customer references",
        required=False,
        max_length=2000,
        help_text="Separated by commas.",
    )

    def clean_phone_numbers(self) -> list[str]:
        """Telnyx matches E.164 numbers: each typed number is read by the list's parser."""
        return parse_complete_numbers(self.cleaned_data.get("phone_numbers", ""))

    def clean_customer_references(self) -> list[str]:
        value = self.cleaned_data.get("customer_references", "")
        return [ref.strip() for ref in (value or "").split(",") if ref.strip()]


class InternalNoteForm(forms.Form):
    """A note for the team only: kept in the dashboard, never sent to Telnyx."""

    body = forms.CharField(
        label="Internal note",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Team only: kept in this dashboard, never sent to Telnyx or the gaining carrier.",
    )

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise ValidationError("Write the note first.")
        return body
