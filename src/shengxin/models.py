"""Imports every domain's models so that ``metadata`` knows the whole operational schema.

Alembic's autogenerate and the migration drift test compare against this metadata.
"""

from shengxin.accounts import models as _accounts  # noqa: F401
from shengxin.audit import models as _audit  # noqa: F401
import shengxin.appeals.models, shengxin.notify.models, shengxin.workdays.models  # noqa: F401,E401
from shengxin.appeals.library import models as _appeals_library  # noqa: F401
from shengxin.tags import models as _tags  # noqa: F401
from shengxin.signals import models as _signals  # noqa: F401
from shengxin.policies import models as _policies  # noqa: F401
from shengxin.payouts import models as _payouts  # noqa: F401
from shengxin.db import Base

metadata = Base.metadata
