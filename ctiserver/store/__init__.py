"""ctiserver.store"""
