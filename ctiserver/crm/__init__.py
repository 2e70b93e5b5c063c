"""ctiserver.crm"""
