"""ctiserver.sim"""
