"""ctiserver.dialer"""
