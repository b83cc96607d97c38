"""GraphQL of procurement: placeholder until this part is written."""

from plugins.procurement.federation import Roots

ROOTS = Roots()
