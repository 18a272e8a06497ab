"""Supervision's tables: revisits and complaints, scorecards and traffic-light decisions,
purchase-of-service projects and their evaluations (ADR 20)."""

from jiuzhu.supervision.models.lights import (
    ExitReview,
    LightDecision,
    ProviderScore,
    Rectification,
    SupervisionConfig,
)
from jiuzhu.supervision.models.projects import (
    Evaluation,
    EvaluationScore,
    Indicator,
    Project,
    ProjectProvider,
)
from jiuzhu.supervision.models.revisits import Complaint, Revisit, RevisitBatch

__all__ = [
    "Complaint",
    "Evaluation",
    "EvaluationScore",
    "ExitReview",
    "Indicator",
    "LightDecision",
    "Project",
    "ProjectProvider",
    "ProviderScore",
    "Rectification",
    "Revisit",
    "RevisitBatch",
    "SupervisionConfig",
]
