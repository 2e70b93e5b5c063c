"""ctiserver.web"""
