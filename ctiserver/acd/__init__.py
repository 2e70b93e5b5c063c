"""ctiserver.acd"""
