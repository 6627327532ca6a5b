"""``python3 -m fakedevices.client <cmd>``: see ``cli.py``."""

import sys

from fakedevices.client.cli import main

sys.exit(main())
