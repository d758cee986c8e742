"""QA leads' configuration: audited saves, published scorecard versions frozen."""

import pytest
from django.core.exceptions import ValidationError

from qa.configuration import config_save, version_new_draft, version_publish
from qa.models import QAEvent, ScorecardItem, ScorecardVersion

pytestmark = pytest.mark.django_db


def test_a_published_version_is_frozen_and_a_new_draft_copies_it(qa_setup, admin_user,
                                                                  client):
    item = ScorecardItem.objects.filter(section__version__published_at__isnull=False).first()
    item.weight = 9
    with pytest.raises(ValidationError):
        config_save(obj=item, actor=admin_user, created=False)
    assert ScorecardItem.objects.get(pk=item.pk).weight != 9
    draft = version_new_draft(scorecard=qa_setup.scorecard, actor=admin_user)
    assert draft.number == 2 and draft.published_at is None
    assert ScorecardItem.objects.filter(section__version=draft).count() == \
        ScorecardItem.objects.filter(section__version=item.section.version).count()
    copy = ScorecardItem.objects.get(section__version=draft, code=item.code)
    copy.weight = 9
    config_save(obj=copy, actor=admin_user, created=False)
    version_publish(version_id=draft.pk, actor=admin_user)
    assert qa_setup.scorecard.current_version() == ScorecardVersion.objects.get(pk=draft.pk)
    assert QAEvent.objects.filter(kind="configured", actor=admin_user).count() >= 3
    client.force_login(admin_user)
    page = client.get(f"/admin/qa/scorecardversion/{draft.pk}/change/")
    assert page.status_code == 200
