"""What every part shares and nothing in it touches the store: months and the reporting calendar, the catalog
of indicators, settings and limits, problems (a row-and-column sentence), number formatting, parsing, safe
spreadsheet exports and the folders the product reads.
"""
