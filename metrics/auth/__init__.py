"""Who may do what: roles and their permissions (roles.py) and the user accounts (users.py). The door every
page goes through with the acting user is metrics/access.py.
"""
