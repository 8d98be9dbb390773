"""Test fixture: depends on crm_cycle_a"""
