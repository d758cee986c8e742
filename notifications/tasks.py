"""Celery tasks of notifications: thin wrappers over services."""

from celery import shared_task

from . import services


@shared_task(name="notifications.email_sweep", time_limit=120, soft_time_limit=100)
def email_sweep() -> dict:
    """E-mail pending notifications of users who opted in (beat, every minute)."""
    return {"sent": services.email_sweep()}


@shared_task(name="notifications.im_sweep", time_limit=60, soft_time_limit=50)
def im_sweep() -> dict:
    """WeCom / DingTalk / Feishu deliveries (beat, every 30 s): fan out fresh notifications,
    queue team digests, send what is due within the platforms' rate limits. Budget: 25 s and
    500 messages a run (one HTTPS request each)."""
    from .channels.services import im_sweep as sweep

    return sweep().as_dict()
