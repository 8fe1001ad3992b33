"""Hugging Face Hub-compatible download routes (see ``routes.py``)."""
