"""Forms of the risk panel, the end user's answer page and the expected port-outs' admin."""

from __future__ import annotations

from datetime import timedelta

from django import forms

from portouts.choices import CONFIRMATION_ANSWER_WITHIN_HOURS, ConfirmationAnswer, OutcomeLabel
from portouts.forms import IdempotencyKeyField
from portouts.models import ExpectedPortOut


class ConfirmationForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        error_messages={"invalid": "Enter a whole e-mail address, such as jane@example.com."},
    )
    answer_within = forms.TypedChoiceField(
        choices=[(h, f"{h} h") for h in CONFIRMATION_ANSWER_WITHIN_HOURS], coerce=int, initial=2
    )
    #: a double submit sends one e-mail
    idempotency_key = IdempotencyKeyField()

    def answer_window(self) -> timedelta:
        return timedelta(hours=self.cleaned_data["answer_within"])


class OutcomeForm(forms.Form):
    label = forms.ChoiceField(
        choices=OutcomeLabel.choices,
        error_messages={"invalid_choice": "Choose one of the outcomes listed."},
    )
    note = forms.CharField(max_length=1000, required=False)


class AnswerForm(forms.Form):
    answer = forms.ChoiceField(choices=ConfirmationAnswer.choices)


class ExpectedPortOutForm(forms.ModelForm):  # type: ignore[type-arg]
    """Numbers left empty are no numbers (the expected port names a customer instead), so
    the model's rule "numbers or a customer" gives the error, not a JSON one."""

    class Meta:
        model = ExpectedPortOut
        fields = ["numbers", "customer", "gaining_carrier", "valid_until", "note"]

    def clean_numbers(self) -> object:
        return self.cleaned_data["numbers"] or []
