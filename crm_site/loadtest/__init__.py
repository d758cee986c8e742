"""The load test: the demo scaled up in SQL, gunicorn + a Celery worker and beat, simulated
reps and managers (locust), then the invariants checked. ``manage.py load_test``."""
