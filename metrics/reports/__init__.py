"""What the numbers look like: the Plotly figures (charts.py), the monthly bulletin (bulletin.py) and its
sections (sections.py), laid out as slides (slides.py), a PDF (pdf.py) and a workbook (workbook.py).
"""
