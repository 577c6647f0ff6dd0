"""``{% load perfsuite_components %}``: ``component``, ``virtual_list`` and ``lazy``."""

from __future__ import annotations

from django.template import Library

from perfsuite.memo_components.lazy_tag import register_lazy_tag
from perfsuite.memo_components.tag_component import register_component_tag
from perfsuite.memo_components.virtual_tag import register_virtual_list_tag

register = Library()
register_component_tag(register)
register_lazy_tag(register)
register_virtual_list_tag(register)
