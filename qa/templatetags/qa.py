from django import template

from qa.categories import category_label

register = template.Library()


@register.filter
def qa_category(code: str) -> str:
    return category_label(code)
