"""One vocabulary: every place that names statuses, event types, document types, review
actions and list columns reads them from portouts.choices."""

from __future__ import annotations

from portouts import choices
from portouts.filters import PortOutEventFilter, PortOutFilter
from portouts.forms import TelnyxReportForm
from portouts.models import PortOutEvent, ReviewAction, SupportingDocument
from portouts.templatetags import portouts_ui


def test_status_choices_are_one_definition():
    assert PortOutFilter.base_filters["status"].extra["choices"] == choices.PortOutStatus.choices
    assert TelnyxReportForm.base_fields["statuses"].choices == choices.PortOutStatus.choices
    assert portouts_ui.register.filters["status_label"] is choices.status_label
    assert set(choices.STATUS_TONES) == set(choices.PortOutStatus.values)


def test_event_document_and_action_vocabularies_are_one_definition():
    assert PortOutEventFilter.base_filters["event_type"].extra["choices"] == (
        choices.EventType.choices
    )
    assert SupportingDocument.Type is choices.DocumentType
    assert ReviewAction.Kind is choices.ReviewActionKind
    assert ReviewAction._meta.get_field("kind").choices == choices.ReviewActionKind.choices
    assert choices.event_label("portout.new_comment") == "New comment"
    assert choices.event_label("portout.something_new") == "portout.something_new"
    assert PortOutEvent._meta.get_field("event_type")


def test_list_columns_drive_the_sort_orders():
    orders = PortOutFilter.base_filters["o"].param_map  # `o` value -> model field
    for column in choices.LIST_COLUMNS:
        if not column.order:  # not sortable (time left sorts as "created")
            assert not column.sort_field
            continue
        assert orders[column.order] == column.sort_field
        assert column.sort_field in choices.LIST_FIELDS
