"""Test fixture: a plugin whose import raises"""
