import sys

from decisions.cli import main

sys.exit(main())
