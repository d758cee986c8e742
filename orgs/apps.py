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

        from crm_site.lib.imports.registry import register_kind
        from crm_site.lib.masking import set_unmask_policy

        from . import models, signals
        from .access import can_unmask, register_record_rules
        from .importing import EMPLOYEES
        from .selectors import employee_list

        register_kind(EMPLOYEES)
        # The pure masking helpers ask this app who sees contact data in clear; employees'
        # mobiles are seen by whoever may open the employee (the team directory).
        set_unmask_policy(can_unmask)
        register_record_rules("orgs.Employee",
                              visible=lambda user: employee_list(user=user),
                              own=lambda user, employee: employee.user_id == user.pk)

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
