"""Follow-ups on any subject (leads, customers, opportunities — ``leads.subjects``): the
one write of a follow-up, the reminders of their plans, the rep's agenda and the shared
follow-up panel (services, selectors, views, urls)."""
