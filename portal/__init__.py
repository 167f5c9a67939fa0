"""The Django project; importing the Celery app here binds shared tasks to it."""

from __future__ import annotations

from portal.celery import app as celery_app

__all__ = ["celery_app"]
