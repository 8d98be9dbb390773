"""Test fixture module: uses the extension point that crm_fixture adds through crm_addhooks."""
