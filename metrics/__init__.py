"""Core of the group safety-production dashboard: catalog, store, scoring, breaches, command line.

Nothing in this package imports Streamlit; the pages only present what it returns.
"""
