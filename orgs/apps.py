from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _seed_dictionaries(sender, using="default", **kwargs) -> None:
    from .defaults import seed_default_dictionaries
    from .models import Dictionary, DictionaryItem

    seed_default_dictionaries(Dictionary, DictionaryItem)


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = _("Organisation")

    def ready(self) -> None:
        from auditlog.registry import auditlog
        from django.contrib.auth.signals import user_logged_in

        from . import models, signals

        auditlog.register(models.Role)
        auditlog.register(models.OrgUnit, m2m_fields={"allowed_roles"})
        auditlog.register(models.Position, m2m_fields={"default_roles"})
        auditlog.register(models.Employee, mask_fields=["mobile"])
        auditlog.register(models.Membership, m2m_fields={"extra_roles", "revoked_roles"})
        auditlog.register(models.Dictionary)
        auditlog.register(models.DictionaryItem)
        user_logged_in.connect(signals.remember_session, dispatch_uid="orgs.remember_session")
        post_save.connect(signals.membership_changed, sender=models.Membership,
                          dispatch_uid="orgs.team_history_save")
        post_delete.connect(signals.membership_changed, sender=models.Membership,
                            dispatch_uid="orgs.team_history_delete")
        post_migrate.connect(_seed_dictionaries, sender=self, dispatch_uid="orgs.dictionaries")
