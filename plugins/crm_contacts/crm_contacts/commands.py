"""(being written) ``crm contacts ...`` commands."""


def crm_commands():
    return []
