"""(being written) Demo data of crm_contacts."""


def crm_demo_data(session, scale):
    return None
