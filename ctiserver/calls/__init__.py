"""ctiserver.calls"""
