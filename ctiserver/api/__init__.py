"""ctiserver.api"""
