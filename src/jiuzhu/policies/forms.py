"""The policy form: it only turns what was typed into values (dates, ticks, choices);
what is allowed is decided by services.library, whose messages land on the same fields."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiuzhu.applications.models import AssistanceKind
from jiuzhu.policies.models import GuideTag, Policy, Theme
from jiuzhu.policies.services.library import EDITABLE, PolicyFields
from jiuzhu.registry.choices import Category


class PolicyForm(forms.Form):
    code = forms.CharField(
        label=_("code"),
        required=False,
        max_length=60,
        help_text=_("Short, in Latin letters, fixed once saved; matching results refer to it."),
    )
    name = forms.CharField(label=_("name"), required=False, max_length=100)
    department = forms.CharField(label=_("department"), required=False, max_length=60)
    theme = forms.ChoiceField(label=_("theme"), choices=Theme.choices)
    summary = forms.CharField(
        label=_("summary"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    conditions_text = forms.CharField(
        label=_("conditions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("In plain words, as the public guide shows them."),
    )
    benefit = forms.CharField(
        label=_("benefit"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    how_to_apply = forms.CharField(
        label=_("how to apply"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    phone = forms.CharField(
        label=_("contact phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    valid_from = forms.DateField(
        label=_("valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_public = forms.BooleanField(label=_("shown in the public guide"), required=False)
    guide_tags = forms.MultipleChoiceField(
        label=_("fits these answers of the public questionnaire"),
        choices=GuideTag.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    rule_sql = forms.CharField(
        label=_("eligibility rule (SQL)"),
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "spellcheck": "false",
                "style": "font-family: var(--pico-font-family-monospace)",
            }
        ),
        help_text=_(
            "One SELECT returning household_id, evidence and explanation (docs/policies.md). "
            "Leave empty for a policy described in words only."
        ),
    )
    enrolment_category = forms.ChoiceField(
        label=_("enrolment category"),
        required=False,
        help_text=_("Households enrolled in it already have the policy."),
    )
    assistance_kind = forms.ChoiceField(
        label=_("kind of assistance"),
        required=False,
        help_text=_("A match can start an application of this kind."),
    )
    reason = forms.CharField(
        label=_("reason for the change"),
        required=False,
        max_length=200,
        help_text=_("E.g. the document that sets the new text."),
    )

    def __init__(
        self, *args: Any, kinds: list[AssistanceKind], creating: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        category = cast(forms.ChoiceField, self.fields["enrolment_category"])
        category.choices = [("", "–"), *Category.choices]
        kind = cast(forms.ChoiceField, self.fields["assistance_kind"])
        kind.choices = [("", "–")] + [(k.code, f"{k.name_zh} ({k.code})") for k in kinds]
        if not creating:
            del self.fields["code"]

    @classmethod
    def initial_of(cls, policy: Policy) -> dict[str, Any]:
        return {name: getattr(policy, name) for name in EDITABLE}

    def policy_fields(self) -> PolicyFields:
        data = self.cleaned_data
        return PolicyFields(**{name: data[name] for name in EDITABLE})

    def add_service_errors(self, exc: ValidationError) -> None:
        """Put the service's messages on their fields (others above the form)."""
        if not hasattr(exc, "error_dict"):
            for message in exc.messages:
                self.add_error(None, message)
            return
        for name, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
