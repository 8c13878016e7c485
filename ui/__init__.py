"""Presentation helpers shared by the Streamlit pages: language, cached store access."""
