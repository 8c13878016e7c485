"""How the numbers are judged: a period's scores and grades (scores.py, on the statements of queries.py), a
unit's scorecard, the overview's figures and the breach rules (breaches.py).
"""
