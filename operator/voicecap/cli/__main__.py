"""`python -m voicecap.cli`."""

import sys

from voicecap.cli import main

sys.exit(main())
