"""ctiserver.kpi"""
