"""Asterisk REST Interface: typed resources and events (``models``), REST operations (``rest``) and the
asyncio client with its events WebSocket (``client.AriClient``)."""
