"""The services app's models, one module per part: the catalogue and plans, who serves
(providers, volunteers), needs and claims, orders and vouchers."""

from jiuzhu.services.models.catalogue import (
    MONEY,
    ConfigRevision,
    EntitlementRule,
    PlanItem,
    ServiceItem,
    ServicePlan,
)
from jiuzhu.services.models.needs import Claim, Need
from jiuzhu.services.models.orders import DispatchOffer, EntitlementDebit, ServiceOrder
from jiuzhu.services.models.providers import (
    ContractItem,
    Provider,
    ProviderContract,
    ProviderMember,
    Volunteer,
)

__all__ = [
    "MONEY",
    "Claim",
    "ConfigRevision",
    "ContractItem",
    "DispatchOffer",
    "EntitlementDebit",
    "EntitlementRule",
    "Need",
    "PlanItem",
    "Provider",
    "ProviderContract",
    "ProviderMember",
    "ServiceItem",
    "ServiceOrder",
    "ServicePlan",
    "Volunteer",
]
