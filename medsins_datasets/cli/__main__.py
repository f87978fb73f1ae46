import sys

from medsins_datasets.cli.app import main

sys.exit(main())
