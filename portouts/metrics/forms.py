"""The weekly summary's settings form (staff only; the view checks)."""

from __future__ import annotations

from typing import Any

from django import forms

from portouts.models import WeeklySummarySettings


class WeeklySummaryForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = WeeklySummarySettings
        fields = ["enabled", "group"]
        labels = {"enabled": "Send the weekly summary", "group": "To the group"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("enabled") and not data.get("group"):
            raise forms.ValidationError("Choose the group that receives the weekly summary.")
        return data
