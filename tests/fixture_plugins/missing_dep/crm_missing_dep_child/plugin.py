from core import Manifest

MANIFEST = Manifest(name="crm_missing_dep_child", depends=("crm_missing_dep",))
