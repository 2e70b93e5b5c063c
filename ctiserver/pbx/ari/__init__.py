"""ctiserver.pbx.ari"""
