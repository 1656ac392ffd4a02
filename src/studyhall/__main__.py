import sys

from studyhall.cli import main

sys.exit(main())
