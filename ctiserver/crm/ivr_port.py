"""The IVR's ``ContactLookup`` (``ctiserver.ivr.ports``) over the CRM service: scripts see ``contact.name``,
``contact.vip``, ``contact.company``..."""

from __future__ import annotations

from ctiserver.crm.service import CrmService
from ctiserver.ivr.ports import Contact as IvrContact


class IvrContactLookup:
    def __init__(self, crm: CrmService) -> None:
        self.crm = crm

    async def lookup(self, number: str) -> IvrContact | None:
        contact = await self.crm.lookup_contact(number)
        if contact is None:
            return None
        fields = contact.model_dump(mode="json", exclude={"id", "name"})
        return IvrContact(id=contact.id, name=contact.name, fields=fields)
