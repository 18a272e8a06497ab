"""Import history and quarantine of department feeds. The feed records themselves live as
Parquet under ``var/feeds/`` (see jiuzhu.feeds.storage), keyed by blind index."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class BatchStatus(models.TextChoices):
    IMPORTED = "imported", _("imported")
    REJECTED = "rejected", _("rejected")
    DUPLICATE = "duplicate", _("same file already imported")


class FeedBatch(models.Model):
    """One file of one feed, as it arrived: counts, who sent it, and where it was stored."""

    feed = models.CharField(_("feed"), max_length=41, db_index=True)
    feed_version = models.PositiveSmallIntegerField(_("feed version"))
    file_name = models.CharField(_("file"), max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    source = models.CharField(_("source"), max_length=8)  # "cli" or "api"
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices)
    message = models.CharField(_("message"), max_length=300, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_accepted = models.PositiveIntegerField(_("accepted"), default=0)
    rows_quarantined = models.PositiveIntegerField(_("quarantined"), default=0)
    rows_already_stored = models.PositiveIntegerField(_("already stored"), default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("feed batch")
        verbose_name_plural = _("feed batches")

    def __str__(self) -> str:
        return f"{self.feed} {self.file_name}"


class QuarantinedRow(models.Model):
    """A row that was refused, with the reason per column. ID numbers in ``values`` are
    masked: the quarantine is read by people, and the original file is the department's."""

    batch = models.ForeignKey(FeedBatch, on_delete=models.CASCADE, related_name="quarantine")
    row_number = models.PositiveIntegerField(_("row"))
    errors = models.JSONField(_("errors"))
    values = models.JSONField(_("values"))

    class Meta:
        ordering = ["batch", "row_number"]
        verbose_name = _("quarantined row")
        verbose_name_plural = _("quarantined rows")

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"
