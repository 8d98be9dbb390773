"""Test fixture: a plugin implementing a misspelled hook"""
