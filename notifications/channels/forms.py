"""Forms of the messaging channels: a person's choices, a team robot, the admin's channel.

Secret fields are write-only: they start empty, an empty value keeps what is stored, and
the stored value is never put back into a page.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from . import crypto, topics
from .models import ChannelConfig, TeamRobot

SECRET_WIDGET_ATTRS = {"autocomplete": "off", "class": "form-control form-control-sm",
                       "spellcheck": "false"}


def _topic_choices():
    return [(t.code, t.label) for t in topics.topics()]


class ImPreferenceForm(forms.Form):
    topics = forms.MultipleChoiceField(label=_("Send me"), required=False,
                                       widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language of the messages"),
                                 choices=settings.LANGUAGES)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = _topic_choices()


class TeamRobotForm(forms.ModelForm):
    """A team's group robot, as its manager (or an administrator) sets it up."""

    webhook = forms.CharField(
        label=_("Webhook address"), required=False, max_length=500,
        widget=forms.TextInput(attrs={**SECRET_WIDGET_ATTRS, "data-testid": "robot-webhook"}),
        help_text=_("Copied from the group's robot settings. Kept encrypted and never shown "
                    "again; leave empty to keep the current one."))
    sign_secret = forms.CharField(
        label=_("Signing secret"), required=False, max_length=200,
        widget=forms.PasswordInput(attrs=SECRET_WIDGET_ATTRS, render_value=False),
        help_text=_("DingTalk “加签” (SEC…) or Feishu/Lark “签名校验” secret, if the robot "
                    "uses one. Leave empty to keep the current one."))
    clear_sign_secret = forms.BooleanField(label=_("Remove the signing secret"),
                                           required=False)
    topics = forms.MultipleChoiceField(label=_("Also post at once"), required=False,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = TeamRobot
        fields = ["org_unit", "platform", "name", "is_active", "digest_enabled", "digest_time",
                  "language", "topics"]
        widgets = {"digest_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, units=None, platforms=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["topics"].choices = _topic_choices()
        self.fields["topics"].help_text = TeamRobot._meta.get_field("topics").help_text
        self.fields["org_unit"].label = _("Team")
        if units is not None:
            self.fields["org_unit"].queryset = units
            only = list(units[:2])
            if len(only) == 1 and not self.instance.pk:
                self.initial["org_unit"] = only[0].pk  # a manager of one team: theirs
        if platforms is not None:
            self.fields["platform"].choices = platforms
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            else:
                widget.attrs.setdefault("class", "form-control form-control-sm")
        if self.instance.pk:
            state = _("set") if self.instance.webhook_encrypted else _("not set")
            self.fields["webhook"].help_text = _("Currently: %(state)s. %(help)s") % {
                "state": state, "help": self.fields["webhook"].help_text}
            sign_state = _("set") if self.instance.has_sign_secret else _("not set")
            self.fields["sign_secret"].help_text = _("Currently: %(state)s. %(help)s") % {
                "state": sign_state, "help": self.fields["sign_secret"].help_text}
            # The platform of a robot is its webhook's: change it by adding a new robot.
            self.fields["platform"].disabled = True

    def clean(self):
        from .services import robot_webhook_error

        cleaned = super().clean()
        webhook = (cleaned.get("webhook") or "").strip()
        platform = cleaned.get("platform") or self.instance.platform
        if (webhook or cleaned.get("sign_secret")) and not crypto.key_configured():
            raise forms.ValidationError(crypto.MISSING_KEY_MESSAGE)
        if webhook and platform:
            problem = robot_webhook_error(platform, webhook)
            if problem:
                self.add_error("webhook", problem)
        elif not webhook and not self.instance.webhook_encrypted:
            self.add_error("webhook", _("Enter the robot's webhook address."))
        return cleaned


class ChannelConfigForm(forms.ModelForm):
    """The admin's form of a channel: the secret is write-only."""

    new_secret = forms.CharField(
        label=_("Secret"), required=False, max_length=500,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
        help_text=_("WeCom: the internal app's Secret. DingTalk: the AppSecret (Client "
                    "Secret). Feishu/Lark: the App Secret. Stored encrypted and never shown "
                    "again; leave empty to keep the current one."))
    clear_secret = forms.BooleanField(label=_("Remove the stored secret"), required=False)
    api_base = forms.URLField(
        label=_("API address"), required=False, max_length=200, assume_scheme="https",
        help_text=ChannelConfig._meta.get_field("api_base").help_text)

    class Meta:
        model = ChannelConfig
        fields = ["platform", "is_enabled", "app_id", "agent_id", "receive_id_type",
                  "api_base"]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_secret") and not crypto.key_configured():
            self.add_error("new_secret", crypto.MISSING_KEY_MESSAGE)
        platform = cleaned.get("platform")
        if platform in ("wecom", "dingtalk") and cleaned.get("agent_id") and \
                not cleaned["agent_id"].isdigit():
            self.add_error("agent_id", _("The AgentId is a number."))
        return cleaned


class SampleMessageForm(forms.Form):
    address = forms.CharField(label=_("Send to user ID"), max_length=64,
                              help_text=_("The person's user ID on this platform, as in the "
                                          "employee records."))
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
