"""ctiserver.recording"""
