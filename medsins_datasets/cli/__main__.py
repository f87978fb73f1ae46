import sys

from medsins_datasets.cli.main import main

sys.exit(main())
