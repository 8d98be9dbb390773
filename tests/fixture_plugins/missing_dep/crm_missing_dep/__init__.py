"""Test fixture: depends on a module that does not exist"""
