"""The ledgers (台账): records kept one by one, with their events, rather than monthly totals. The hazard
ledger (隐患台账): vocabulary.py (the words and settings of data/hazards.toml), hazards.py (the records and the
closed loop 登记 → 整改中 → 待验收 → 已销号, each change an event on the audit trail).
"""
