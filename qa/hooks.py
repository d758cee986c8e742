"""Where quality inspection plugs into the apps below it (called from ``QaConfig.ready``)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save

from leads.followup_hooks import register_followup_saved
from orgs.models import Dictionary, DictionaryItem

from .scanning import WORD_DICTIONARY, scan_followup
from .tasks import rescan_words


def _word_list_changed(sender, instance, **kwargs) -> None:
    """A sensitive word was added, changed or removed: rescan every follow-up after commit."""
    # By id: when a whole dictionary is deleted its row may already be gone.
    if not Dictionary.objects.filter(pk=instance.dictionary_id, code=WORD_DICTIONARY).exists():
        return
    transaction.on_commit(lambda: rescan_words.delay())


def connect() -> None:
    register_followup_saved("qa.scan", scan_followup)
    post_save.connect(_word_list_changed, sender=DictionaryItem, dispatch_uid="qa.words")
    post_delete.connect(_word_list_changed, sender=DictionaryItem, dispatch_uid="qa.words_del")
