"""Test fixture: depends on crm_missing_dep"""
