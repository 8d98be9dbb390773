from core import Manifest

MANIFEST = Manifest(name="crm_cycle_b", depends=("crm_cycle_a",))
