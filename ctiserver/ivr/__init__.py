"""ctiserver.ivr"""
