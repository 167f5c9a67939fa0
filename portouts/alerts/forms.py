"""Forms of the alerts pages and admin: a channel (its target checked, never shown back),
a rule's routes (a rule needs recipients), a person's preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from portouts.alerts.channels import channel_target_check
from portouts.models import AlertChannel, AlertPreference, AlertRoute


class ChannelForm(forms.ModelForm):
    """The target is write-only: empty on edit keeps the stored one."""

    target = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Webhook URL, or e-mail addresses separated by commas. Stored encrypted; "
        "shown back only masked. Leave empty to keep the current one.",
    )

    class Meta:
        model = AlertChannel
        fields = ["name", "kind", "target", "target_env", "enabled"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        target, env_name = data.get("target", ""), data.get("target_env", "")
        if not target and not env_name and not (self.instance.pk and self.instance.target_masked):
            raise ValidationError("Give the channel's address or an environment variable.")
        if target and data.get("kind"):
            try:
                data["target"] = channel_target_check(data["kind"], target)
            except ValidationError as exc:
                self.add_error("target", exc)
        return data


def route_has_recipients(data: dict[str, Any]) -> bool:
    return bool(data.get("group") or data.get("users") or data.get("channels"))


class RouteInlineFormSet(forms.BaseInlineFormSet):
    """A rule cannot be saved without recipients in its primary route."""

    def clean(self) -> None:
        super().clean()
        primary = [
            f.cleaned_data
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("role") == "primary"
        ]
        if not any(route_has_recipients(d) for d in primary):
            raise ValidationError(
                "A rule needs recipients: add a route of role “Recipients” with a group, "
                "users or channels."
            )


class RouteForm(forms.ModelForm):
    class Meta:
        model = AlertRoute
        fields = ["role", "position", "delay_minutes", "group", "users", "channels"]


class PreferenceForm(forms.ModelForm):
    class Meta:
        model = AlertPreference
        fields = ["method", "muted_rules", "quiet_timezone", "quiet_start", "quiet_end"]
        widgets = {
            "muted_rules": forms.CheckboxSelectMultiple,
            "quiet_start": forms.TimeInput(attrs={"type": "time"}),
            "quiet_end": forms.TimeInput(attrs={"type": "time"}),
        }
        labels = {"muted_rules": "Rules I do not want", "method": "Reach me by"}

    def clean_quiet_timezone(self) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = self.cleaned_data.get("quiet_timezone") or "UTC"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"{name!r} is not a time zone (e.g. Europe/Paris).") from None
        return name
