"""Every op is one Function class; this package is the op table."""
from .elementwise import *  # noqa: F401,F403
from .extra import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .index_more import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .linalg_more import *  # noqa: F401,F403
from .math_fns import *  # noqa: F401,F403
from .ordered import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .convert import *  # noqa: F401,F403
from .math_more import *  # noqa: F401,F403
from .special_fns import *  # noqa: F401,F403
from .fft import *  # noqa: F401,F403
from .complex import *  # noqa: F401,F403  (last: it marks the ops above)
