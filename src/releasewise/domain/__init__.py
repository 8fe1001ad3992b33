"""Pure domain rules: no I/O, no imports from the outer layers.

Everything here can be tested without a database or a web server.
"""
