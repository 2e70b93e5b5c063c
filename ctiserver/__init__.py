"""ctiserver — a CTI/IVR/ACD engine for contact centres on Asterisk 22."""

__version__ = "0.1.0"
