from core import Manifest

MANIFEST = Manifest(name="crm_missing_dep", depends=("crm_does_not_exist",))
