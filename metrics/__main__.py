import sys

from metrics.cli.main import main
from metrics.core.limits import few_malloc_arenas

few_malloc_arenas()
sys.exit(main())
