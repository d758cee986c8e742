"""Reminders delivered where sales teams read them: WeCom, DingTalk and Feishu/Lark.

How it fits together:

- ``models``: the per-install channel of each platform (app credentials, secrets encrypted
  at rest by ``crypto``), each team's group robots, each person's opt-in, and one
  ``Delivery`` row per notification and destination (the unique key that makes a retry
  never send twice).
- ``topics``: which notification kinds (registered by the apps that send them) a person
  or a team group can opt into.
- ``services``: the Celery sweep (``im_sweep``): fan out fresh notifications into
  deliveries, queue each team's daily digest, send what is due within each platform's
  rate limits, retry with backoff, and record every outcome.
- ``wecom``, ``dingtalk``, ``feishu``: one module per platform — token endpoint, send
  endpoints, signed webhooks, documented error codes and rate limits.
- ``fake``: small local servers speaking each platform's request and response shapes, for
  the tests and for trying the feature by hand (``manage.py im_fake``).

Nothing here is called by other apps: delivery hangs off the notification rows that
``notifications.services.notify_many`` writes.
"""
