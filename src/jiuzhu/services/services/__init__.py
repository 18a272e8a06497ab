"""Writes of the services app (HackSoft services), one module per area: the catalogue,
entitlement rules, service plans and the three lists' exports."""
