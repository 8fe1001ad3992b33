"""releasewise: responsible release of generative ML research.

The package is layered (see docs/architecture.md): ``domain`` holds pure rules,
``services`` the use cases, ``store`` persistence, and ``api``/``web``/``cli``
are thin entry points.
"""

__version__ = "0.1.0"
