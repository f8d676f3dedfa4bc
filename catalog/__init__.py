"""The catalog: Vitrine's web pages.

Reads through registry selectors, writes through registry services.
"""
