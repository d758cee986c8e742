"""Labels of the sensitive-word categories (the codes kept in each word's ``extra``)."""

from django.utils.translation import gettext_lazy as _

CATEGORIES = {
    "return_promise": _("Promise of returns"),
    "competitor_slander": _("Competitor slander"),
    "insult": _("Insult"),
    "privacy": _("Privacy"),
    "bribery": _("Bribery"),
    "private_payment": _("Payment outside company accounts"),
    "overpromise": _("Over-promising"),
}


def category_label(code: str) -> str:
    """The category's label in the reader's language; an unknown code reads as itself."""
    return str(CATEGORIES.get(code, code or "—"))
