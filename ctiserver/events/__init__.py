"""Domain events: a versioned CloudEvents-style envelope and the bus that carries them."""

from ctiserver.events.bus import Bus, InMemoryBus, Subscription
from ctiserver.events.envelope import DomainEvent, new_event

__all__ = ["Bus", "DomainEvent", "InMemoryBus", "Subscription", "new_event"]
