"""The complete schema: imports every table module so ``metadata`` knows all tables.

Core tables live in ``models.py``; each capability keeps its tables in its own
``models_<capability>.py`` (sharing ``models.Base``) and is imported here.
Migrations and tests read ``metadata`` from this module.
"""

from __future__ import annotations

from releasewise.store import models
from releasewise.store import models_access
from releasewise.store import models_assessment
from releasewise.store import models_disclosure
from releasewise.store import models_incidents
from releasewise.store import models_plans
from releasewise.store import models_provenance
from releasewise.store import models_precedents
from releasewise.store import models_signing
from releasewise.store.models import Base

TABLE_MODULES = [models, models_access, models_assessment, models_disclosure, models_plans,
                 models_incidents, models_signing, models_provenance,
                 models_precedents]

metadata = Base.metadata
